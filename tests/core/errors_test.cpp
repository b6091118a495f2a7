// Bad input ends in a clear exception naming what was given and expected.
#include <gtest/gtest.h>

#include "cnn/error.h"
#include "cnn/nn/layers.h"
#include "cnn/nn/presets.h"
#include "cnn/ops.h"
#include "cnn/optim/optimizer.h"
#include "test_util.h"

using namespace cnn;

#define EXPECT_THROW_WITH(stmt, type, ...)                                \
  do {                                                                    \
    try {                                                                 \
      stmt;                                                               \
      ADD_FAILURE() << "no exception from " #stmt;                        \
    } catch (const type& e) {                                             \
      for (const char* part : {__VA_ARGS__})                              \
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos)    \
            << "message \"" << e.what() << "\" lacks \"" << part << "\""; \
    }                                                                     \
  } while (0)

TEST(Errors, WrongInputShapeToFitAndPredict) {
  auto model = nn::lenet();
  model->compile(std::make_shared<optim::Adam>(), "sparse_categorical_crossentropy", {"accuracy"});
  Tensor y({4});
  EXPECT_THROW_WITH(model->fit(Tensor({4, 28, 28}), y), ShapeError, "(4, 28, 28)", "(None, 28, 28, 1)");
  EXPECT_THROW_WITH(model->predict(Tensor({2, 32, 32, 1})), ShapeError, "(2, 32, 32, 1)",
                    "(None, 28, 28, 1)");
  EXPECT_THROW_WITH(model->fit(Tensor({4, 28, 28, 1}), Tensor({5})), ShapeError, "(4, 28, 28, 1)", "(5,)");
  EXPECT_THROW_WITH(model->fit(Tensor({4, 28, 28, 1}), Tensor({4, 10})), ShapeError, "y has shape (4, 10)",
                    "(4,)");
}

TEST(Errors, LabelsOutOfRange) {
  auto model = nn::lenet();
  model->compile(std::make_shared<optim::Adam>(), "sparse_categorical_crossentropy", {"accuracy"});
  Tensor y({3}, std::vector<float>{1, 10, 2});
  EXPECT_THROW_WITH(model->fit(Tensor({3, 28, 28, 1}), y), ValueError, "label 10", "index 1", "[0, 10)");
  Tensor neg({3}, std::vector<float>{1, -1, 2});
  EXPECT_THROW_WITH(model->evaluate(Tensor({3, 28, 28, 1}), neg), ValueError, "label -1");
  Tensor frac({3}, std::vector<float>{1, 2.5f, 2});
  EXPECT_THROW_WITH(model->fit(Tensor({3, 28, 28, 1}), frac), ValueError, "label 2.5");
}

TEST(Errors, KernelLargerThanInputWithValidPadding) {
  nn::Conv2DOptions c;
  c.filters = 2;
  c.kernel_size = {5, 5};
  auto in = nn::Input({4, 6, 1});
  EXPECT_THROW_WITH(nn::apply_layer(std::make_shared<nn::Conv2D>(c, "big"), in), ShapeError, "Conv2D 'big'",
                    "larger than the input height (4)");
  // 'same' padding makes the same kernel fit.
  c.padding = "same";
  EXPECT_EQ(nn::apply_layer(std::make_shared<nn::Conv2D>(c), in).shape(), (Shape{-1, 4, 6, 2}));
  // In a Sequential, the failed add leaves the model as it was.
  nn::Sequential seq({std::make_shared<nn::InputLayer>(Shape{6, 6, 1}),
                      std::make_shared<nn::MaxPooling2D>(nn::Pool2DOptions{{2, 2}})});
  c.padding = "valid";
  EXPECT_THROW_WITH(seq.add(std::make_shared<nn::Conv2D>(c)), ShapeError,
                    "layer 2: Conv2D: the height window (5)", "larger than the input height (3)");
  EXPECT_EQ(seq.output_shape(), (Shape{-1, 3, 3, 1}));
  EXPECT_THROW_WITH(ops::max_pool2d(Tensor({1, 1, 3, 1})), ShapeError, "max_pool2d", "height");
}

TEST(Errors, OpShapeMismatchesNameShapes) {
  EXPECT_THROW_WITH(ops::conv2d(Tensor({1, 5, 5, 3}), Tensor({3, 3, 2, 4}), Tensor()), ShapeError, "conv2d",
                    "(3, 3, 2, 4)", "(1, 5, 5, 3)");
  EXPECT_THROW_WITH(ops::conv2d(Tensor({5, 5, 3}), Tensor({3, 3, 3, 4}), Tensor()), ShapeError, "(5, 5, 3)",
                    "rank 4");
  EXPECT_THROW_WITH(ops::dense(Tensor({2, 7}), Tensor({5, 3}), Tensor()), ShapeError, "dense", "(2, 7)",
                    "(batch, 5)");
  EXPECT_THROW_WITH(ops::add(Tensor({2, 3}), Tensor({3, 2})), ShapeError, "add", "(2, 3)", "(3, 2)");
  EXPECT_THROW_WITH(ops::categorical_crossentropy(Tensor({2, 3}), Tensor({2, 4}), false), ShapeError,
                    "(2, 4)", "(2, 3)");
  Tensor mm({3}), mv({3}, 1.0f);
  EXPECT_THROW_WITH(ops::batch_norm(Tensor({2, 4}), Tensor({3}), Tensor({3}), mm, mv, {}), ShapeError,
                    "batch_norm", "(3,)", "(4,)");
}

TEST(Errors, CompileAndFitMisuse) {
  auto model = nn::lenet();
  EXPECT_THROW_WITH(model->fit(Tensor({2, 28, 28, 1}), Tensor({2})), ValueError, "compile");
  EXPECT_THROW_WITH(model->compile(std::make_shared<optim::Adam>(), "hinge"), ValueError, "hinge");
  EXPECT_THROW_WITH(model->compile(std::make_shared<optim::Adam>(), "mse", {"auc"}), ValueError, "auc");
  model->compile(std::make_shared<optim::Adam>(), "sparse_categorical_crossentropy");
  EXPECT_THROW_WITH(model->fit(Tensor({2, 28, 28, 1}), Tensor({2}), {.batch_size = 0}), ValueError,
                    "batch_size");
  EXPECT_THROW_WITH(model->fit(Tensor({2, 28, 28, 1}), Tensor({2}), {.validation_split = 1.5}), ValueError,
                    "validation_split");
}

TEST(Errors, BadLayerSettings) {
  EXPECT_THROW_WITH(nn::Conv2D(nn::Conv2DOptions{.filters = 0}), ValueError, "filters");
  EXPECT_THROW_WITH(nn::Conv2D(nn::Conv2DOptions{.filters = 2, .padding = "full"}), ValueError, "'full'");
  EXPECT_THROW_WITH(nn::Dense(nn::DenseOptions{.units = 3, .activation = "swish"}), ValueError, "swish");
  EXPECT_THROW_WITH(nn::Dropout(1.0f), ValueError, "rate");
  EXPECT_THROW_WITH(nn::InputLayer(Shape{0, 3}), ValueError, "(0, 3)");
}

TEST(Errors, SharedLayersAreRefused) {
  auto in = nn::Input({4});
  auto dense = std::make_shared<nn::Dense>(nn::DenseOptions{.units = 4});
  auto twice = nn::apply_layer(dense, nn::apply_layer(dense, in));
  EXPECT_THROW_WITH(nn::Model({in}, {twice}), ValueError, "more than once");
}
