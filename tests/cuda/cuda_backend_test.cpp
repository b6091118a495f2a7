// The CUDA backend against the CPU backend: every op's output and input
// gradients on random shapes with odd sizes (and a conv lowered in several
// im2col groups), the PyTorch fixtures (tests/fixtures/torch) run on the
// GPU, and whole models trained on both devices, within 1e-4 relative.
// Skips, saying why, without a GPU.
#include <gtest/gtest.h>

#include <functional>

#include "cnn/autograd.h"
#include "cnn/device.h"
#include "cnn/error.h"
#include "cnn/nn/layers.h"
#include "cnn/nn/model.h"
#include "cnn/nn/presets.h"
#include "cnn/nn/resnet50.h"
#include "cnn/ops.h"
#include "cnn/optim/optimizer.h"
#include "cnn/rng.h"
#include "test_util.h"

using namespace cnn;
using test::rel_error;

namespace {

constexpr double kTol = 1e-4;

class Cuda : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!device_available(Device::CUDA)) GTEST_SKIP() << device_description(Device::CUDA);
  }
};

double rel(const Tensor& a, const Tensor& b) { return rel_error(a.to(Device::CPU), b.to(Device::CPU)); }

using OpFn = std::function<Tensor(const std::vector<Tensor>&)>;

// f on `inputs` (CPU) and on CUDA copies; back-propagates the same random
// gy on both and compares the outputs and every input's gradient.
void expect_same_on_both(const std::vector<Tensor>& inputs, const OpFn& f, double tol = kTol) {
  std::vector<Tensor> cpu, gpu;
  for (const Tensor& t : inputs) {
    cpu.push_back(t.clone().set_requires_grad(true));
    gpu.push_back(t.to(Device::CUDA).clone().set_requires_grad(true));
  }
  const Tensor y_cpu = f(cpu), y_gpu = f(gpu);
  ASSERT_EQ(y_gpu.device(), Device::CUDA);
  ASSERT_EQ(y_cpu.shape(), y_gpu.shape());
  EXPECT_LT(rel(y_gpu, y_cpu), tol) << "forward";
  // L = sum(y * gy) on each device (test::backward_with reads host values).
  const Tensor gy = test::random_tensor(y_cpu.shape(), 99);
  ops::sum_product(y_cpu, gy).backward();
  ops::sum_product(y_gpu, gy.to(Device::CUDA)).backward();
  for (size_t i = 0; i < inputs.size(); ++i)
    if (cpu[i].has_grad()) {
      EXPECT_LT(rel(gpu[i].grad(), cpu[i].grad()), tol) << "gradient of input " << i;
    }
}

Tensor rnd(const Shape& s, uint64_t seed, float scale = 1.0f) { return test::random_tensor(s, seed, scale); }

}  // namespace

TEST_F(Cuda, TensorsMoveAndCopy) {
  const Tensor a = rnd({3, 5, 7}, 1);
  const Tensor g = a.to(Device::CUDA);
  EXPECT_EQ(g.device(), Device::CUDA);
  EXPECT_EQ(g.to_vector(), a.to_vector());
  EXPECT_THROW(g.data(), DeviceError);  // never read as host memory
  Tensor z = Tensor::zeros({3, 5, 7}, Device::CUDA);
  z.copy_from(g);
  EXPECT_EQ(z.clone().to_vector(), a.to_vector());
  z.fill(2.5f);
  EXPECT_EQ(z.to_vector(), std::vector<float>(105, 2.5f));
  const std::string msg = test::error_of<DeviceError>([&] { ops::add(a, g); });
  EXPECT_NE(msg.find("different devices"), std::string::npos) << msg;
}

TEST_F(Cuda, ConvolutionsMatchTheCpu) {
  struct Case {
    Shape x, w;
    ops::Conv2DOptions o;
  };
  ops::Conv2DOptions same, s2, dil, relu;
  same.padding = ops::Padding::Same;
  s2.stride_h = s2.stride_w = 2;
  s2.padding = ops::Padding::Same;
  dil.dilation_h = dil.dilation_w = 2;
  relu.relu = true;
  relu.padding = ops::Padding::Same;
  const Case cases[] = {{{2, 9, 11, 3}, {3, 3, 3, 5}, same},
                        {{3, 10, 9, 4}, {4, 4, 4, 7}, s2},
                        {{1, 13, 12, 2}, {3, 3, 2, 3}, dil},
                        {{2, 7, 7, 6}, {1, 1, 6, 5}, {}},
                        {{2, 28, 28, 1}, {5, 5, 1, 6}, relu},
                        {{1, 15, 15, 3}, {7, 7, 3, 8}, s2},
                        // 9.4M im2col values per image: lowered in groups of 7 images, then 1.
                        {{8, 128, 128, 64}, {3, 3, 64, 16}, same}};
  uint64_t seed = 10;
  for (const Case& c : cases) {
    SCOPED_TRACE(shape_str(c.x) + " * " + shape_str(c.w));
    expect_same_on_both({rnd(c.x, seed++), rnd(c.w, seed++, 0.3f), rnd({c.w[3]}, seed++)},
                        [&](const std::vector<Tensor>& t) { return ops::conv2d(t[0], t[1], t[2], c.o); });
  }
}

TEST_F(Cuda, FusedInferenceConvMatchesTheCpu) {
  const Tensor x = rnd({2, 8, 8, 4}, 1), w = rnd({3, 3, 4, 6}, 2, 0.3f), b = rnd({6}, 3);
  ops::ConvEpilogue ep;
  ep.scale = rnd({6}, 4);
  ep.shift = rnd({6}, 5);
  ep.residual = rnd({2, 8, 8, 6}, 6);
  ep.relu = true;
  ops::Conv2DOptions o;
  o.padding = ops::Padding::Same;
  const Tensor cpu = ops::conv2d_inference(x, w, b, o, ep);
  ops::ConvEpilogue gep{ep.scale.to(Device::CUDA), ep.shift.to(Device::CUDA), ep.residual.to(Device::CUDA),
                        true};
  const Tensor gpu =
      ops::conv2d_inference(x.to(Device::CUDA), w.to(Device::CUDA), b.to(Device::CUDA), o, gep);
  EXPECT_LT(rel(gpu, cpu), kTol);
}

TEST_F(Cuda, DensePoolingAndShapesMatchTheCpu) {
  expect_same_on_both({rnd({5, 17}, 1), rnd({17, 9}, 2), rnd({9}, 3)},
                      [](const std::vector<Tensor>& t) { return ops::dense(t[0], t[1], t[2]); });
  for (auto padding : {ops::Padding::Valid, ops::Padding::Same})
    for (int64_t k : {2, 3}) {
      ops::Pool2DOptions o{k, k, 2, 2, padding};
      expect_same_on_both({rnd({2, 9, 7, 5}, k)},
                          [&](const std::vector<Tensor>& t) { return ops::max_pool2d(t[0], o); });
      expect_same_on_both({rnd({2, 9, 7, 5}, k)},
                          [&](const std::vector<Tensor>& t) { return ops::avg_pool2d(t[0], o); });
    }
  expect_same_on_both({rnd({3, 5, 6, 7}, 4)},
                      [](const std::vector<Tensor>& t) { return ops::global_avg_pool2d(t[0]); });
  expect_same_on_both({rnd({3, 5, 6, 7}, 5)},
                      [](const std::vector<Tensor>& t) { return ops::global_max_pool2d(t[0]); });
  expect_same_on_both({rnd({2, 5, 6, 3}, 6)},
                      [](const std::vector<Tensor>& t) { return ops::zero_padding2d(t[0], 1, 2, 3, 0); });
  expect_same_on_both({rnd({2, 3, 4}, 7), rnd({2, 3, 4}, 8)},
                      [](const std::vector<Tensor>& t) { return ops::add(t[0], t[1]); });
  for (int axis : {-1, 1})
    expect_same_on_both({rnd({2, 3, 4}, 9), rnd({2, 3, 4}, 10)}, [&](const std::vector<Tensor>& t) {
      return ops::concat({t[0], t[1]}, axis);
    });
  expect_same_on_both({rnd({4, 6}, 11)}, [](const std::vector<Tensor>& t) {
    return ops::scale_shift(ops::flatten(ops::reshape(t[0], {2, 12})), 1.5f, -0.5f);
  });
}

TEST_F(Cuda, ActivationsAndBatchNormMatchTheCpu) {
  for (const char* act : {"relu", "sigmoid", "tanh", "softmax"})
    expect_same_on_both({rnd({7, 13}, 1, 3.0f)},
                        [&](const std::vector<Tensor>& t) { return ops::activation(t[0], act); });
  for (bool training : {true, false}) {
    SCOPED_TRACE(training ? "training" : "inference");
    Tensor mm_cpu = rnd({6}, 20, 0.1f), mv_cpu = rnd({6}, 21, 0.1f);
    for (int64_t i = 0; i < 6; ++i) mv_cpu[i] = 1.0f + std::abs(mv_cpu[i]);
    Tensor mm_gpu = mm_cpu.to(Device::CUDA), mv_gpu = mv_cpu.to(Device::CUDA);
    ops::BatchNormOptions o;
    o.training = training;
    expect_same_on_both(
        {rnd({4, 5, 3, 6}, 2, 2.0f), rnd({6}, 3), rnd({6}, 4)}, [&](const std::vector<Tensor>& t) {
          const bool on_gpu = t[0].device() == Device::CUDA;
          return ops::batch_norm(t[0], t[1], t[2], on_gpu ? mm_gpu : mm_cpu, on_gpu ? mv_gpu : mv_cpu, o);
        });
    EXPECT_LT(rel(mm_gpu, mm_cpu), kTol);
    EXPECT_LT(rel(mv_gpu, mv_cpu), kTol);
    const ops::BatchNormAffine a = ops::batch_norm_affine(Tensor(), Tensor(), mm_cpu, mv_cpu, 1e-3f);
    const ops::BatchNormAffine g = ops::batch_norm_affine(Tensor(), Tensor(), mm_gpu, mv_gpu, 1e-3f);
    EXPECT_LT(rel(g.scale, a.scale), kTol);
    EXPECT_LT(rel(g.shift, a.shift), kTol);
  }
}

TEST_F(Cuda, LossesAndMetricsMatchTheCpu) {
  const Tensor logits = rnd({6, 5}, 1, 2.0f);
  const Tensor probs = ops::softmax(logits);
  const Tensor labels({6}, std::vector<float>{0, 4, 2, 2, 1, 3});
  Tensor onehot({6, 5});
  for (int64_t n = 0; n < 6; ++n) onehot[n * 5 + static_cast<int64_t>(labels[n])] = 1.0f;
  const Tensor targets01 = ops::sigmoid(rnd({6, 5}, 2));
  for (bool logits_in : {true, false}) {
    const Tensor pred = logits_in ? logits : probs;
    expect_same_on_both({pred}, [&](const std::vector<Tensor>& t) {
      return ops::sparse_categorical_crossentropy(t[0], labels.to(t[0].device()), logits_in);
    });
    expect_same_on_both({pred}, [&](const std::vector<Tensor>& t) {
      return ops::categorical_crossentropy(t[0], onehot.to(t[0].device()), logits_in);
    });
    expect_same_on_both({logits_in ? logits : ops::sigmoid(logits)}, [&](const std::vector<Tensor>& t) {
      return ops::binary_crossentropy(t[0], targets01.to(t[0].device()), logits_in);
    });
  }
  expect_same_on_both({logits}, [&](const std::vector<Tensor>& t) {
    return ops::mean_squared_error(t[0], targets01.to(t[0].device()));
  });
  const Tensor gl = logits.to(Device::CUDA);
  EXPECT_EQ(ops::sparse_categorical_accuracy(gl, labels.to(Device::CUDA)),
            ops::sparse_categorical_accuracy(logits, labels));
  EXPECT_EQ(ops::categorical_accuracy(gl, onehot.to(Device::CUDA)),
            ops::categorical_accuracy(logits, onehot));
  EXPECT_EQ(ops::binary_accuracy(gl, targets01.to(Device::CUDA), 0.0f),
            ops::binary_accuracy(logits, targets01, 0.0f));
  // A bad label is named as on the CPU.
  const std::string msg = test::error_of<ValueError>([&] {
    ops::sparse_categorical_crossentropy(
        gl, Tensor({6}, std::vector<float>{0, 9, 0, 0, 0, 0}).to(Device::CUDA), true);
  });
  EXPECT_NE(msg.find("label 9 at index 1"), std::string::npos) << msg;
}

// The PyTorch-made fixtures the CPU backend is checked against, on the GPU.
TEST_F(Cuda, ConvAndPoolFixturesMatchPyTorch) {
  for (const char* name : {"conv2d_valid", "conv2d_same_s2", "conv2d_dilated", "conv2d_same_s2_even_asym"}) {
    SCOPED_TRACE(name);
    const test::Fixture f = test::load_fixture(name);
    Tensor x = f.at("x").to(Device::CUDA).clone(), w = f.at("w").to(Device::CUDA).clone(),
           b = f.at("b").to(Device::CUDA).clone();
    for (Tensor* t : {&x, &w, &b}) t->set_requires_grad(true);
    ops::Conv2DOptions o;
    o.stride_h = f.params["strides"][0];
    o.stride_w = f.params["strides"][1];
    o.dilation_h = f.params["dilation"][0];
    o.dilation_w = f.params["dilation"][1];
    o.padding = ops::parse_padding(f.params["padding"].get<std::string>(), "fixture");
    const Tensor y = ops::conv2d(x, w, b, o);
    EXPECT_LT(rel(y, f.at("y")), kTol);
    ops::sum_product(y, f.at("gy").to(Device::CUDA)).backward();
    EXPECT_LT(rel(x.grad(), f.at("dx")), kTol);
    EXPECT_LT(rel(w.grad(), f.at("dw")), kTol);
    EXPECT_LT(rel(b.grad(), f.at("db")), kTol);
  }
  for (const char* name : {"maxpool_same_s2", "avgpool_same_s2"}) {
    SCOPED_TRACE(name);
    const test::Fixture f = test::load_fixture(name);
    Tensor x = f.at("x").to(Device::CUDA).clone();
    x.set_requires_grad(true);
    ops::Pool2DOptions o;
    o.pool_h = f.params["pool_size"][0];
    o.pool_w = f.params["pool_size"][1];
    o.stride_h = f.params["strides"][0];
    o.stride_w = f.params["strides"][1];
    o.padding = ops::parse_padding(f.params["padding"].get<std::string>(), "fixture");
    const Tensor y = f.params["op"] == "max_pool2d" ? ops::max_pool2d(x, o) : ops::avg_pool2d(x, o);
    EXPECT_LT(rel(y, f.at("y")), kTol);
    ops::sum_product(y, f.at("gy").to(Device::CUDA)).backward();
    EXPECT_LT(rel(x.grad(), f.at("dx")), kTol);
  }
}

TEST_F(Cuda, ModelGradientsMatchTheCpu) {
  auto cpu = nn::lenet({28, 28, 1}, 10, 3), gpu = nn::lenet({28, 28, 1}, 10, 3);
  for (auto* m : {cpu.get(), gpu.get()})
    m->compile(std::make_shared<optim::Adam>(), "sparse_categorical_crossentropy", {"accuracy"});
  gpu->to(Device::CUDA);
  const Tensor x = rnd({4, 28, 28, 1}, 8);
  const Tensor y({4}, std::vector<float>{1, 7, 3, 3});
  const nn::Model::Gradients gc = cpu->loss_gradients(x, y), gg = gpu->loss_gradients(x, y);
  EXPECT_NEAR(gg.loss, gc.loss, 1e-5);
  EXPECT_LT(rel_error(gg.input_grad, gc.input_grad), kTol);
  ASSERT_EQ(gg.weight_grads.size(), gc.weight_grads.size());
  for (size_t i = 0; i < gc.weight_grads.size(); ++i)
    EXPECT_LT(rel_error(gg.weight_grads[i], gc.weight_grads[i]), kTol) << "weight " << i;
  const Tensor gy = rnd({4, 10}, 9);
  const nn::Model::Gradients vc = cpu->vjp(x, gy), vg = gpu->vjp(x, gy);
  EXPECT_LT(rel_error(vg.output, vc.output), kTol);
  EXPECT_LT(rel_error(vg.input_grad, vc.input_grad), kTol);
}

TEST_F(Cuda, DropoutDropsTheSameValuesForTheSameSeed) {
  expect_same_on_both({rnd({8, 9}, 1)}, [](const std::vector<Tensor>& t) {
    Rng rng(7);
    return ops::dropout(t[0], 0.4f, true, rng);
  });
}

// Keras's random image layers transform by maps drawn on the host: the
// same draws give the same images and gradients on either device.
TEST_F(Cuda, RandomImageLayersResampleAlike) {
  nn::ImageTransformOptions constant;
  constant.fill_mode = nn::ImageFill::Constant;
  constant.fill_value = 0.5f;
  nn::RandomRotation rotation(nn::FactorRange{-0.2f, 0.2f, true}, constant);
  nn::RandomZoom zoom(nn::FactorRange{-0.3f, 0.3f, true}, std::nullopt);
  nn::ImageTransformOptions nearest;
  nearest.interpolation = nn::ImageInterpolation::Nearest;
  nearest.fill_mode = nn::ImageFill::Wrap;
  nn::RandomTranslation translation(nn::FactorRange{-0.3f, 0.3f, true}, nn::FactorRange{-0.2f, 0.4f, false},
                                    nearest);
  nn::RandomFlip flip;
  // Values near 0 and 1 clipped by a [0, 1] range, for the clip's gradient.
  nn::RandomContrast contrast(nn::FactorRange{0.3f, 0.6f, false}, {0.0f, 1.0f});
  nn::RandomBrightness brightness(nn::FactorRange{-0.2f, 0.2f, true}, {0.0f, 1.0f});
  for (nn::Layer* layer :
       std::initializer_list<nn::Layer*>{&rotation, &zoom, &translation, &flip, &contrast, &brightness})
    expect_same_on_both({rnd({3, 7, 9, 5}, 2)}, [&](const std::vector<Tensor>& t) {
      Rng rng(5);
      nn::CallContext ctx;
      ctx.training = true;
      ctx.rng = &rng;
      return layer->call({t[0]}, ctx);
    });
}

// A model trained a few steps on each device ends with the same weights.
void expect_same_training(nn::Model& cpu, nn::Model& gpu, const Tensor& x, const Tensor& y, double tol) {
  gpu.to(Device::CUDA);
  EXPECT_EQ(gpu.device(), Device::CUDA);
  train::FitOptions fo;
  fo.epochs = 2;
  fo.batch_size = 8;
  fo.shuffle = false;
  const train::History hc = cpu.fit(x, y, fo), hg = gpu.fit(x, y, fo);
  EXPECT_NEAR(hg.history.at("loss").back(), hc.history.at("loss").back(), tol * 10);
  const std::vector<Tensor> wc = cpu.get_weights(), wg = gpu.get_weights();
  ASSERT_EQ(wc.size(), wg.size());
  // A conv's bias ahead of batch norm (ResNet's) has a zero gradient in exact
  // arithmetic: it stays at zero plus each device's rounding noise (~1e-8), so
  // each weight is compared against at least 1e-3, below any trained weight.
  for (size_t i = 0; i < wc.size(); ++i) EXPECT_LT(rel_error(wg[i], wc[i], 1e-3), tol) << "weight " << i;
  EXPECT_LT(rel_error(gpu.predict(x), cpu.predict(x)), tol);
}

TEST_F(Cuda, LeNetTrainsAlikeOnBothDevices) {
  const Tensor x = rnd({32, 28, 28, 1}, 1);
  Tensor y({32});
  for (int64_t i = 0; i < 32; ++i) y[i] = static_cast<float>(i % 10);
  auto cpu = nn::lenet({28, 28, 1}, 10, 5), gpu = nn::lenet({28, 28, 1}, 10, 5);
  for (auto* m : {cpu.get(), gpu.get()})
    m->compile(std::make_shared<optim::Adam>(1e-3f), "sparse_categorical_crossentropy", {"accuracy"});
  expect_same_training(*cpu, *gpu, x, y, 1e-3);
}

TEST_F(Cuda, ResNetRunsAndTrainsAlikeOnBothDevices) {
  nn::ResNetArchitecture arch;
  arch.stem_filters = 8;
  arch.blocks = {1, 1, 1, 1};
  arch.filters = {4, 8, 8, 16};
  nn::ResNet50Options opt;
  opt.input_shape = {32, 32, 3};
  opt.classes = 5;
  auto cpu = nn::resnet(arch, opt, "mini"), gpu = nn::resnet(arch, opt, "mini");
  const Tensor x = rnd({16, 32, 32, 3}, 3, 50.0f);
  // Inference (the fused conv + batch norm chains).
  gpu->to(Device::CUDA);
  EXPECT_LT(rel_error(gpu->predict(x), cpu->predict(x)), kTol);
  gpu->to(Device::CPU);
  Tensor y({16});
  for (int64_t i = 0; i < 16; ++i) y[i] = static_cast<float>(i % 5);
  for (auto* m : {cpu.get(), gpu.get()})
    m->compile(std::make_shared<optim::SGD>(0.01f, 0.9f), "sparse_categorical_crossentropy", {"accuracy"});
  expect_same_training(*cpu, *gpu, x, y, 1e-3);
}
