// Forward values and gradients against PyTorch-made fixtures
// (tests/fixtures/torch/make_torch_fixtures.py): within 1e-4 relative.
#include <gtest/gtest.h>

#include "cnn/nn/layers.h"
#include "cnn/nn/model.h"
#include "cnn/nn/presets.h"
#include "cnn/ops.h"
#include "test_util.h"

using namespace cnn;
using test::Fixture;
using test::load_fixture;
using test::rel_error;

namespace {

constexpr double kTol = 1e-4;

ops::Padding padding_of(const Fixture& f) {
  return ops::parse_padding(f.params["padding"].get<std::string>(), "fixture");
}

Tensor grad_input(const Fixture& f, const char* name) {
  Tensor t = f.at(name).clone();
  t.set_requires_grad(true);
  return t;
}

}  // namespace

class ConvFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(ConvFixture, MatchesTorch) {
  Fixture f = load_fixture(GetParam());
  Tensor x = grad_input(f, "x"), w = grad_input(f, "w"), b = grad_input(f, "b");
  ops::Conv2DOptions o;
  o.stride_h = f.params["strides"][0];
  o.stride_w = f.params["strides"][1];
  o.dilation_h = f.params["dilation"][0];
  o.dilation_w = f.params["dilation"][1];
  o.padding = padding_of(f);
  Tensor y = ops::conv2d(x, w, b, o);
  EXPECT_LT(rel_error(y, f.at("y")), kTol);
  test::backward_with(y, f.at("gy"));
  EXPECT_LT(rel_error(x.grad(), f.at("dx")), kTol);
  EXPECT_LT(rel_error(w.grad(), f.at("dw")), kTol);
  EXPECT_LT(rel_error(b.grad(), f.at("db")), kTol);

  // The same numbers through explicit zero padding of the applied amounts.
  auto pads = f.params["pads_tblr"];
  o.padding = ops::Padding::Explicit;
  o.pad_top = pads[0], o.pad_bottom = pads[1], o.pad_left = pads[2], o.pad_right = pads[3];
  EXPECT_LT(rel_error(ops::conv2d(f.at("x"), f.at("w"), f.at("b"), o), f.at("y")), kTol);
}

INSTANTIATE_TEST_SUITE_P(Torch, ConvFixture,
                         ::testing::Values("conv2d_valid", "conv2d_same_s2", "conv2d_same_5x5",
                                           "conv2d_dilated", "conv2d_s2_valid_even_kernel",
                                           "conv2d_same_s2_even", "conv2d_same_s2_even_asym",
                                           "conv2d_same_even_s1", "conv2d_gray_same_5x5",
                                           "conv2d_gray_valid_even"));

class PoolFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(PoolFixture, MatchesTorch) {
  Fixture f = load_fixture(GetParam());
  Tensor x = grad_input(f, "x");
  const std::string op = f.params["op"];
  Tensor y;
  if (op == "global_avg_pool2d") {
    y = ops::global_avg_pool2d(x);
  } else if (op == "global_max_pool2d") {
    y = ops::global_max_pool2d(x);
  } else {
    ops::Pool2DOptions o;
    o.pool_h = f.params["pool_size"][0];
    o.pool_w = f.params["pool_size"][1];
    o.stride_h = f.params["strides"][0];
    o.stride_w = f.params["strides"][1];
    o.padding = padding_of(f);
    y = op == "max_pool2d" ? ops::max_pool2d(x, o) : ops::avg_pool2d(x, o);
  }
  EXPECT_LT(rel_error(y, f.at("y")), kTol);
  test::backward_with(y, f.at("gy"));
  EXPECT_LT(rel_error(x.grad(), f.at("dx")), kTol);
}

INSTANTIATE_TEST_SUITE_P(Torch, PoolFixture,
                         ::testing::Values("maxpool_valid", "maxpool_same_s2", "avgpool_valid",
                                           "avgpool_same_s2", "global_avg_pool", "global_max_pool"));

TEST(TorchReference, Dense) {
  Fixture f = load_fixture("dense");
  Tensor x = grad_input(f, "x"), w = grad_input(f, "w"), b = grad_input(f, "b");
  Tensor y = ops::dense(x, w, b);
  EXPECT_LT(rel_error(y, f.at("y")), kTol);
  test::backward_with(y, f.at("gy"));
  EXPECT_LT(rel_error(x.grad(), f.at("dx")), kTol);
  EXPECT_LT(rel_error(w.grad(), f.at("dw")), kTol);
  EXPECT_LT(rel_error(b.grad(), f.at("db")), kTol);
}

TEST(TorchReference, BatchNormTraining) {
  Fixture f = load_fixture("batchnorm_train");
  Tensor x = grad_input(f, "x"), g = grad_input(f, "gamma"), b = grad_input(f, "beta");
  Tensor mm = f.at("moving_mean").clone(), mv = f.at("moving_var").clone();
  ops::BatchNormOptions o;
  o.training = true;
  o.epsilon = f.params["epsilon"];
  o.momentum = f.params["momentum"];
  o.unbiased_moving_var = true;  // 4-D input: TensorFlow's fused kernel
  Tensor y = ops::batch_norm(x, g, b, mm, mv, o);
  EXPECT_LT(rel_error(y, f.at("y")), kTol);
  EXPECT_LT(rel_error(mm, f.at("moving_mean_new")), kTol);
  EXPECT_LT(rel_error(mv, f.at("moving_var_new_unbiased")), kTol);
  test::backward_with(y, f.at("gy"));
  EXPECT_LT(rel_error(x.grad(), f.at("dx")), kTol);
  EXPECT_LT(rel_error(g.grad(), f.at("dgamma")), kTol);
  EXPECT_LT(rel_error(b.grad(), f.at("dbeta")), kTol);

  Tensor mm2 = f.at("moving_mean").clone(), mv2 = f.at("moving_var").clone();
  o.unbiased_moving_var = false;  // the non-fused (2-D) path
  ops::batch_norm(f.at("x"), f.at("gamma"), f.at("beta"), mm2, mv2, o);
  EXPECT_LT(rel_error(mv2, f.at("moving_var_new_biased")), kTol);
}

TEST(TorchReference, BatchNormInference) {
  Fixture f = load_fixture("batchnorm_infer");
  Tensor x = grad_input(f, "x"), g = grad_input(f, "gamma"), b = grad_input(f, "beta");
  Tensor mm = f.at("moving_mean").clone(), mv = f.at("moving_var").clone();
  ops::BatchNormOptions o;
  o.epsilon = f.params["epsilon"];
  Tensor y = ops::batch_norm(x, g, b, mm, mv, o);
  EXPECT_LT(rel_error(y, f.at("y")), kTol);
  EXPECT_EQ(mm.to_vector(), f.at("moving_mean").to_vector());  // untouched
  test::backward_with(y, f.at("gy"));
  EXPECT_LT(rel_error(x.grad(), f.at("dx")), kTol);
  EXPECT_LT(rel_error(g.grad(), f.at("dgamma")), kTol);
  EXPECT_LT(rel_error(b.grad(), f.at("dbeta")), kTol);
}

TEST(TorchReference, Softmax) {
  Fixture f = load_fixture("softmax");
  Tensor x = grad_input(f, "x");
  Tensor y = ops::softmax(x);
  EXPECT_LT(rel_error(y, f.at("y")), kTol);
  test::backward_with(y, f.at("gy"));
  EXPECT_LT(rel_error(x.grad(), f.at("dx")), kTol);
}

// Softmax + cross-entropy both ways: fused from logits, and through the
// softmax op then the probability form Keras uses without the fusion.
TEST(TorchReference, SoftmaxCrossEntropy) {
  for (const char* name : {"sparse_cce_softmax", "cce_softmax"}) {
    SCOPED_TRACE(name);
    Fixture f = load_fixture(name);
    const bool sparse = std::string(name) == "sparse_cce_softmax";
    const Tensor& target = sparse ? f.at("labels") : f.at("targets");
    for (bool fused : {true, false}) {
      Tensor z = grad_input(f, "logits");
      Tensor out = fused ? z : ops::softmax(z);
      if (!fused) {
        EXPECT_LT(rel_error(out, f.at("p")), kTol);
      }
      Tensor loss = sparse ? ops::sparse_categorical_crossentropy(out, target, fused)
                           : ops::categorical_crossentropy(out, target, fused);
      EXPECT_NEAR(loss[0], f.at("loss")[0], kTol * std::fabs(f.at("loss")[0]));
      loss.backward();
      EXPECT_LT(rel_error(z.grad(), f.at("dlogits")), kTol) << "fused=" << fused;
    }
  }
}

TEST(TorchReference, BinaryCrossEntropy) {
  Fixture f = load_fixture("bce_sigmoid");
  for (bool fused : {true, false}) {
    Tensor z = grad_input(f, "logits");
    Tensor out = fused ? z : ops::sigmoid(z);
    Tensor loss = ops::binary_crossentropy(out, f.at("targets"), fused);
    EXPECT_NEAR(loss[0], f.at("loss")[0], kTol * std::fabs(f.at("loss")[0]));
    loss.backward();
    EXPECT_LT(rel_error(z.grad(), f.at("dlogits")), kTol) << "fused=" << fused;
  }
  Fixture g = load_fixture("bce_probs");
  Tensor p = grad_input(g, "p");
  Tensor loss = ops::binary_crossentropy(p, g.at("targets"), false);
  EXPECT_NEAR(loss[0], g.at("loss")[0], kTol * std::fabs(g.at("loss")[0]));
  loss.backward();
  EXPECT_LT(rel_error(p.grad(), g.at("dp")), kTol);
}

TEST(TorchReference, MeanSquaredError) {
  Fixture f = load_fixture("mse");
  Tensor p = grad_input(f, "y_pred");
  Tensor loss = ops::mean_squared_error(p, f.at("y_true"));
  EXPECT_NEAR(loss[0], f.at("loss")[0], kTol * std::fabs(f.at("loss")[0]));
  loss.backward();
  EXPECT_LT(rel_error(p.grad(), f.at("dp")), kTol);
}

// A whole LeNet step through the Model API, with the fixture's weights.
TEST(TorchReference, LeNetStep) {
  Fixture f = load_fixture("lenet_step");
  auto lenet = nn::lenet();  // the course LeNet, Keras's default layer names
  nn::Model& model = *lenet;
  for (const nn::LayerPtr& l : model.layers())
    for (nn::Weight& w : l->weights()) w.value.copy_from(f.at(l->name() + "/" + w.name));

  for (bool fused : {false, true}) {
    SCOPED_TRACE(fused ? "fused" : "unfused");
    for (nn::Weight* w : model.trainable_weights()) w->value.zero_grad();
    Tensor out = model.call({f.at("x")}, true, nullptr, fused)[0];
    EXPECT_LT(rel_error(out, f.at(fused ? "logits" : "probs")), kTol);
    Tensor loss = ops::sparse_categorical_crossentropy(out, f.at("labels"), fused);
    EXPECT_NEAR(loss[0], f.at("loss")[0], kTol * f.at("loss")[0]);
    loss.backward();
    for (const nn::LayerPtr& l : model.layers())
      for (nn::Weight& w : l->weights())
        EXPECT_LT(rel_error(w.value.grad(), f.at("grad/" + l->name() + "/" + w.name)), kTol)
            << l->name() << "/" << w.name;
  }
}
