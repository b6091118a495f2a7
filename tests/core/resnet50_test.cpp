// ResNet50 against keras.applications.ResNet50: parameter counts, layer
// names and order (which decide how Keras weight files load), shapes and
// the options Keras takes.
#include "cnn/nn/resnet50.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cnn/error.h"
#include "test_util.h"

using namespace cnn;

namespace {

std::vector<std::string> layer_names(const nn::Model& m) {
  std::vector<std::string> out;
  for (const auto& l : m.layers()) out.push_back(l->name());
  return out;
}

std::vector<std::string> weighted_layer_names(const nn::Model& m) {
  std::vector<std::string> out;
  for (const auto& l : m.layers())
    if (!l->weights().empty()) out.push_back(l->name());
  return out;
}

}  // namespace

TEST(ResNet50, ParameterCountsMatchKeras) {
  auto top = nn::resnet50();
  EXPECT_EQ(top->count_params(), 25'636'712);
  EXPECT_EQ(top->count_trainable_params(), 25'583'592);  // BN moving statistics are not trainable
  EXPECT_EQ(top->layers().size(), 177u);
  EXPECT_EQ(top->output_shape(), (Shape{-1, 1000}));

  auto notop = nn::resnet50({.include_top = false, .input_shape = {150, 150, 3}});
  EXPECT_EQ(notop->count_params(), 23'587'712);
  EXPECT_EQ(notop->count_trainable_params(), 23'534'592);
  EXPECT_EQ(notop->layers().size(), 175u);
  EXPECT_EQ(notop->output_shape(), (Shape{-1, 5, 5, 2048}));
}

TEST(ResNet50, LayerOrderIsKerasOrder) {
  auto m = nn::resnet50({.include_top = false, .input_shape = {64, 64, 3}});
  std::vector<std::string> names = layer_names(*m);
  std::vector<std::string> head(names.begin(), names.begin() + 19);
  EXPECT_EQ(head,
            (std::vector<std::string>{
                "input_1", "conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu", "pool1_pad", "pool1_pool",
                "conv2_block1_1_conv", "conv2_block1_1_bn", "conv2_block1_1_relu", "conv2_block1_2_conv",
                "conv2_block1_2_bn", "conv2_block1_2_relu", "conv2_block1_0_conv", "conv2_block1_3_conv",
                "conv2_block1_0_bn", "conv2_block1_3_bn", "conv2_block1_add", "conv2_block1_out"}));
  EXPECT_EQ(names.back(), "conv5_block3_out");
  // Keras's weight files list weighted layers in this order; conv2_block1's
  // _0_conv and _3_conv have the same shape, so only the order tells them apart.
  std::vector<std::string> weighted = weighted_layer_names(*m);
  EXPECT_EQ(weighted.size(), 106u);  // 53 convs, 53 batch norms
  EXPECT_EQ(weighted[6], "conv2_block1_0_conv");
  EXPECT_EQ(weighted[7], "conv2_block1_3_conv");
  EXPECT_EQ(weighted.back(), "conv5_block3_3_bn");
}

TEST(ResNet50, StridesAndShapesPerStage) {
  auto m = nn::resnet50({.include_top = false, .input_shape = {224, 224, 3}});
  std::vector<std::string> names = layer_names(*m);
  auto shape_of = [&](const std::string& n) {
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == n) return m->output_shape_of(i);
    ADD_FAILURE() << "no layer " << n;
    return Shape{};
  };
  EXPECT_EQ(shape_of("conv1_pad"), (Shape{-1, 230, 230, 3}));
  EXPECT_EQ(shape_of("conv1_conv"), (Shape{-1, 112, 112, 64}));
  EXPECT_EQ(shape_of("pool1_pool"), (Shape{-1, 56, 56, 64}));
  EXPECT_EQ(shape_of("conv2_block3_out"), (Shape{-1, 56, 56, 256}));
  EXPECT_EQ(shape_of("conv3_block1_1_conv"), (Shape{-1, 28, 28, 128}));  // stride 2 on the first 1x1
  EXPECT_EQ(shape_of("conv3_block1_0_conv"), (Shape{-1, 28, 28, 512}));  // and on the shortcut
  EXPECT_EQ(shape_of("conv4_block6_out"), (Shape{-1, 14, 14, 1024}));
  EXPECT_EQ(shape_of("conv5_block3_out"), (Shape{-1, 7, 7, 2048}));
  auto bn = m->get_layer("conv3_block2_2_bn")->config();
  EXPECT_FLOAT_EQ(bn["epsilon"].get<float>(), 1.001e-5f);
  auto conv = m->get_layer("conv4_block1_2_conv")->config();
  EXPECT_EQ(conv["padding"], "same");
  EXPECT_EQ(conv["use_bias"], true);
}

TEST(ResNet50, PoolingAndTopOptions) {
  auto avg = nn::resnet50({.include_top = false, .input_shape = {32, 32, 3}, .pooling = "avg"});
  EXPECT_EQ(avg->output_shape(), (Shape{-1, 2048}));
  EXPECT_EQ(avg->layers().back()->name(), "avg_pool");
  auto mx = nn::resnet50({.include_top = false, .input_shape = {32, 32, 3}, .pooling = "max"});
  EXPECT_EQ(mx->layers().back()->name(), "max_pool");
  auto top = nn::resnet50({.input_shape = {32, 32, 3}, .classes = 12});
  EXPECT_EQ(top->output_shape(), (Shape{-1, 12}));
  EXPECT_EQ(top->count_params(), 25'636'712 - 2049 * 1000 + 2049 * 12);

  EXPECT_THROW(nn::resnet50({.input_shape = {31, 64, 3}}), ValueError);
  EXPECT_THROW(nn::resnet50({.input_shape = {64, 64}}), ValueError);
  EXPECT_THROW(nn::resnet50({.include_top = false, .pooling = "mean"}), ValueError);
  EXPECT_THROW(nn::resnet50({.classes = 0}), ValueError);
}

TEST(ResNet50, ForwardIsAProbabilityPerImageAndSeeded) {
  auto a = nn::resnet50({.input_shape = {32, 32, 3}, .classes = 5, .seed = 3});
  auto b = nn::resnet50({.input_shape = {32, 32, 3}, .classes = 5, .seed = 3});
  Tensor x = test::random_tensor({2, 32, 32, 3}, 9, 50.0f);
  Tensor ya = a->predict(x), yb = b->predict(x);
  ASSERT_EQ(ya.shape(), (Shape{2, 5}));
  EXPECT_EQ(ya.to_vector(), yb.to_vector());
  for (int64_t i = 0; i < 2; ++i) {
    float sum = 0;
    for (int64_t j = 0; j < 5; ++j) sum += ya[i * 5 + j];
    EXPECT_NEAR(sum, 1.0f, 1e-5f);
  }
}

TEST(ResNet50, FreezingLeavesOnlyTheHeadTrainable) {
  auto m = nn::resnet50({.include_top = false, .input_shape = {32, 32, 3}});
  m->set_trainable(false);
  EXPECT_EQ(m->count_trainable_params(), 0);
  EXPECT_EQ(m->count_params(), 23'587'712);
}

TEST(ResNet50, FusedInferenceEqualsLayerByLayer) {
  // Inference runs conv -> BN [-> add] [-> relu] as one conv; with an input
  // that requires grad every layer runs on its own. Both must agree.
  auto m = nn::resnet50({.input_shape = {32, 32, 3}, .classes = 7, .seed = 2});
  Rng rng(5);
  for (const auto& layer : m->layers())
    if (layer->class_name() == "BatchNormalization") {
      auto& w = layer->weights();  // gamma, beta, moving_mean, moving_variance
      for (int64_t c = 0; c < w[0].value.numel(); ++c) {
        w[0].value[c] = rng.uniform(0.5f, 1.5f);
        w[1].value[c] = rng.uniform(-0.5f, 0.5f);
        w[2].value[c] = rng.uniform(-0.5f, 0.5f);
        w[3].value[c] = rng.uniform(0.5f, 2.0f);
      }
    }
  Tensor x = test::random_tensor({2, 32, 32, 3}, 11, 2.0f);
  Tensor fused = m->predict(x);
  Tensor xin = x.clone();
  xin.set_requires_grad(true);
  Tensor separate = m->call(xin, false);
  EXPECT_LT(test::rel_error(fused, separate), 1e-5);
  // An intermediate value asked for is computed, not fused away.
  std::vector<Tensor> outs = m->layer_outputs(x, {"conv3_block2_2_bn", "conv3_block2_out"});
  std::vector<Tensor> ref = m->layer_outputs(x, {"conv3_block2_out"});
  EXPECT_EQ(outs[0].shape(), (Shape{2, 4, 4, 128}));
  EXPECT_LT(test::rel_error(outs[1], ref[0]), 1e-5);
}
