// Weights in and out, gradients without updates, saving as bytes, the
// stepwise fit loop and optimizers from Keras config.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cnn/data/synthetic.h"
#include "cnn/error.h"
#include "cnn/io/model_bytes.h"
#include "cnn/nn/presets.h"
#include "cnn/ops.h"
#include "cnn/optim/optimizer.h"
#include "cnn/train/fit_loop.h"
#include "test_util.h"

using namespace cnn;

TEST(ModelApi, GetAndSetWeights) {
  auto a = nn::lenet({12, 12, 1}, 3, 1), b = nn::lenet({12, 12, 1}, 3, 2);
  Tensor x = test::random_tensor({2, 12, 12, 1}, 3);
  EXPECT_GT(test::rel_error(a->predict(x), b->predict(x)), 1e-3);
  b->set_weights(a->get_weights());
  EXPECT_EQ(a->predict(x).to_vector(), b->predict(x).to_vector());
  std::vector<Tensor> w = a->get_weights();
  w[0] = Tensor({3, 3, 1, 6});
  EXPECT_THROW(b->set_weights(w), ShapeError);
  w.pop_back();
  EXPECT_THROW(b->set_weights(w), ValueError);
}

TEST(ModelApi, VjpMatchesOpGradients) {
  auto model = nn::lenet({12, 12, 1}, 3, 1);
  Tensor x = test::random_tensor({2, 12, 12, 1}, 3), gy = test::random_tensor({2, 3}, 4);
  nn::Model::Gradients g = model->vjp(x, gy);
  // The same through the op graph by hand.
  Tensor xin = x.clone();
  xin.set_requires_grad(true);
  ops::sum_product(model->call(xin), gy).backward();
  EXPECT_LT(test::rel_error(g.input_grad, xin.grad()), 1e-6);
  auto weights = model->all_weights();
  ASSERT_EQ(g.weight_grads.size(), weights.size());
  for (size_t i = 0; i < weights.size(); ++i)
    EXPECT_LT(test::rel_error(g.weight_grads[i], weights[i]->value.grad()), 1e-6);
}

TEST(ModelApi, LossGradientsEqualAFitStepsGradients) {
  auto model = nn::lenet({12, 12, 1}, 3, 1);
  auto task = data::make_synthetic_task({8, 12, 12, 1, 3, 0.1f, 1});
  model->compile(std::make_shared<optim::SGD>(0.5f), "sparse_categorical_crossentropy");
  nn::Model::Gradients g = model->loss_gradients(task.x, task.y);
  std::vector<Tensor> before = model->get_weights();
  model->fit(task.x, task.y, {.batch_size = 8, .epochs = 1, .shuffle = false});
  std::vector<Tensor> after = model->get_weights();
  for (size_t i = 0; i < before.size(); ++i)
    for (int64_t k = 0; k < before[i].numel(); ++k)
      EXPECT_NEAR(after[i][k], before[i][k] - 0.5f * g.weight_grads[i][k], 1e-5);
  EXPECT_GT(g.loss, 0.0);
}

TEST(ModelApi, BytesRoundTripAndRejectBadInput) {
  auto model = nn::lenet({12, 12, 1}, 3, 9);
  Tensor x = test::random_tensor({3, 12, 12, 1}, 3);
  std::vector<uint8_t> bytes = io::save_model_bytes(*model);
  auto again = io::load_model_bytes(bytes.data(), bytes.size());
  EXPECT_EQ(again->predict(x).to_vector(), model->predict(x).to_vector());
  EXPECT_EQ(again->summary(), model->summary());
  EXPECT_THROW(io::load_model_bytes(bytes.data(), bytes.size() - 5), ValueError);
  std::vector<uint8_t> bad = bytes;
  bad[0] = 'X';
  EXPECT_THROW(io::load_model_bytes(bad.data(), bad.size()), ValueError);
  bytes.push_back(0);
  EXPECT_THROW(io::load_model_bytes(bytes.data(), bytes.size()), ValueError);
  std::vector<uint8_t> with_meta = io::save_model_bytes(*model, R"({"class_names": ["a", "b", "c"]})");
  std::string meta;
  io::load_model_bytes(with_meta.data(), with_meta.size(), &meta);
  EXPECT_EQ(meta, R"({"class_names": ["a", "b", "c"]})");
}

// The model's preprocess_input ('caffe' for ResNet50's weights) travels in
// .cnnp bytes, with or without metadata (it once stayed behind, and the
// reloaded model was fed 1/255-scaled pixels).
TEST(ModelApi, BytesKeepThePreprocessing) {
  auto model = nn::lenet({12, 12, 3}, 3, 9);
  model->set_preprocessing("caffe");
  for (const std::string& meta_in : {std::string(), std::string(R"({"rescale": 0})")}) {
    std::vector<uint8_t> bytes = io::save_model_bytes(*model, meta_in);
    std::string meta;
    auto again = io::load_model_bytes(bytes.data(), bytes.size(), &meta);
    EXPECT_EQ(again->preprocessing(), "caffe");
    EXPECT_EQ(meta, meta_in);
  }
  auto plain = nn::lenet({12, 12, 1}, 3, 9);
  std::vector<uint8_t> bytes = io::save_model_bytes(*plain);
  EXPECT_EQ(io::load_model_bytes(bytes.data(), bytes.size())->preprocessing(), "");
}

TEST(ModelApi, FitLoopStepsLikeFit) {
  auto task = data::make_synthetic_task({50, 12, 12, 1, 3, 0.1f, 4});
  auto a = nn::lenet({12, 12, 1}, 3, 1), b = nn::lenet({12, 12, 1}, 3, 1);
  for (auto* m : {a.get(), b.get()})
    m->compile(std::make_shared<optim::Adam>(), "sparse_categorical_crossentropy", {"accuracy"});
  train::FitOptions o{.batch_size = 16, .epochs = 2, .validation_split = 0.2, .seed = 3};
  train::History h = a->fit(task.x, task.y, o);
  train::FitLoop loop(*b, task.x, task.y, o);
  int steps = 0, epochs = 0;
  while (loop.step()) {
    ++steps;
    epochs += loop.epoch_ended();
  }
  EXPECT_EQ(steps, 2 * 3);  // 40 training samples: 3 batches of 16
  EXPECT_EQ(epochs, 2);
  EXPECT_EQ(loop.history().history.at("val_loss"), h.history.at("val_loss"));
  EXPECT_FALSE(loop.step());
}

TEST(ModelApi, OptimizerFromConfig) {
  auto adam = optim::optimizer_from_config(
      nlohmann::json::parse(R"({"class_name": "Adam", "config": {"learning_rate": 0.01}})"));
  EXPECT_EQ(adam->class_name(), "Adam");
  EXPECT_FLOAT_EQ(adam->learning_rate(), 0.01f);
  auto sgd = optim::optimizer_from_config("sgd");
  EXPECT_FLOAT_EQ(sgd->learning_rate(), 0.01f);  // Keras's SGD default
  EXPECT_FLOAT_EQ(optim::optimizer_from_config("adam")->learning_rate(), 0.001f);
  EXPECT_THROW(optim::optimizer_from_config("rmsprop"), ValueError);
}

TEST(ModelApi, FitLoopStopClosesTheEpochAtOnce) {
  auto task = data::make_synthetic_task({50, 12, 12, 1, 3, 0.1f, 4});
  auto m = nn::lenet({12, 12, 1}, 3, 1);
  m->compile(std::make_shared<optim::Adam>(), "sparse_categorical_crossentropy", {"accuracy"});
  train::FitLoop loop(*m, task.x, task.y, {.batch_size = 10, .epochs = 3, .validation_split = 0.2});
  ASSERT_TRUE(loop.step());
  ASSERT_TRUE(loop.step());
  loop.stop();
  EXPECT_TRUE(loop.done());
  EXPECT_TRUE(loop.epoch_ended());
  EXPECT_EQ(loop.history().epoch.size(), 1u);
  EXPECT_EQ(loop.history().history.at("val_loss").size(), 1u);
  EXPECT_FALSE(loop.step());
}

TEST(ModelApi, LayerOutputsInOnePass) {
  auto model = nn::lenet({12, 12, 1}, 3, 1);
  Tensor x = test::random_tensor({2, 12, 12, 1}, 3);
  const auto layers = model->layers();
  const std::string first_conv = layers[1]->name(), last = layers.back()->name();
  std::vector<Tensor> outs = model->layer_outputs(x, {last, first_conv});
  ASSERT_EQ(outs.size(), 2u);
  EXPECT_EQ(outs[0].to_vector(), model->predict(x).to_vector());
  EXPECT_EQ(outs[1].shape(), (Shape{2, 12, 12, 6}));
  // The first conv's output equals a one-layer model's with the same weights.
  auto conv = layers[1];
  Tensor by_hand = conv->call({x}, nn::CallContext{});
  EXPECT_EQ(outs[1].to_vector(), by_hand.to_vector());
  EXPECT_THROW(model->layer_outputs(x, {"no_such_layer"}), ValueError);
}
