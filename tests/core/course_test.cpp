// The course's own numbers (shared/COURSE.md): its 2D convolution example,
// its shapes, its output-size formula and the LeNet summary.
#include <gtest/gtest.h>

#include "cnn/nn/layers.h"
#include "cnn/nn/presets.h"
#include "cnn/ops.h"
#include "test_util.h"

using namespace cnn;

TEST(Course, TwoDimensionalConvolutionExample) {
  Tensor s({1, 5, 5, 1},
           std::vector<float>{1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0});
  Tensor w({3, 3, 1, 1}, std::vector<float>{1, 0, 1, 0, 1, 0, 1, 0, 1});
  Tensor r = ops::conv2d(s, w, Tensor());
  EXPECT_EQ(r.shape(), (Shape{1, 3, 3, 1}));
  EXPECT_EQ(r.to_vector(), (std::vector<float>{4, 3, 4, 2, 4, 3, 2, 3, 4}));
}

TEST(Course, SobelFindsVerticalEdge) {
  // Left half dark, right half bright: the x-Sobel responds only at the edge.
  Tensor img({1, 4, 6, 1});
  for (int r = 0; r < 4; ++r)
    for (int c = 3; c < 6; ++c) img[r * 6 + c] = 1.0f;
  Tensor sobel_x({3, 3, 1, 1}, std::vector<float>{-1, 0, 1, -2, 0, 2, -1, 0, 1});
  Tensor e = ops::conv2d(img, sobel_x, Tensor());  // (1, 2, 4, 1)
  EXPECT_EQ(e.to_vector(), (std::vector<float>{0, 4, 4, 0, 0, 4, 4, 0}));
}

TEST(Course, OutputSizeFormula) {
  // W' = (W - K + 2P) / S + 1
  for (int64_t W : {5, 7, 32, 150})
    for (int64_t K : {1, 3, 5})
      for (int64_t P : {0, 1, 2})
        for (int64_t S : {1, 2, 3}) {
          if (W + 2 * P < K) continue;
          auto g = ops::axis_geometry("conv2d", "width", W, K, S, 1, ops::Padding::Explicit, P, P);
          EXPECT_EQ(g.out, (W - K + 2 * P) / S + 1);
        }
  // 'same' keeps ceil(W / S), the extra padding pixel going after.
  auto g = ops::axis_geometry("conv2d", "width", 8, 3, 2, 1, ops::Padding::Same);
  EXPECT_EQ(g.out, 4);
  EXPECT_EQ(g.pad_before, 0);
  EXPECT_EQ(g.pad_after, 1);
}

TEST(Course, Conv2DFlattenShapes) {
  nn::Conv2DOptions c;
  c.filters = 4;
  c.kernel_size = {3, 3};
  nn::Sequential m({std::make_shared<nn::InputLayer>(Shape{32, 32, 3}), std::make_shared<nn::Conv2D>(c),
                    std::make_shared<nn::Flatten>()});
  EXPECT_EQ(m.output_shape_of(1), (Shape{-1, 30, 30, 4}));
  EXPECT_EQ(m.output_shape(), (Shape{-1, 3600}));
  EXPECT_EQ(m.call(Tensor({2, 32, 32, 3})).shape(), (Shape{2, 3600}));
  // Far fewer parameters than a Dense layer on the same input would need.
  EXPECT_EQ(m.count_params(), 3 * 3 * 3 * 4 + 4);
}

TEST(Course, LeNetSummaryMatchesKeras) {
  auto model = nn::lenet();
  EXPECT_EQ(model->count_params(), 61706);
  EXPECT_EQ(model->summary(), test::read_text(test::fixture_path("keras/lenet_summary.txt")));
}

TEST(Naming, KerasSnakeCase) {
  EXPECT_EQ(nn::default_layer_name("Conv2D"), "conv2d");
  EXPECT_EQ(nn::default_layer_name("GlobalAveragePooling2D"), "global_average_pooling2d");
  EXPECT_EQ(nn::default_layer_name("BatchNormalization"), "batch_normalization");
  EXPECT_EQ(nn::default_layer_name("ZeroPadding2D"), "zero_padding2d");
  EXPECT_EQ(nn::default_layer_name("MaxPooling2D"), "max_pooling2d");
  EXPECT_EQ(nn::default_layer_name("ReLU"), "re_lu");  // Keras's own oddity
  EXPECT_EQ(nn::default_layer_name("Dense"), "dense");
}
