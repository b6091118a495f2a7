// Keras's random image layers (RandomFlip, RandomRotation, RandomZoom,
// RandomTranslation) on known images: a quarter turn is numpy's rot90,
// whole-pixel shifts show each fill mode as TensorFlow's transform fills,
// a zoom of a ramp is the ramp rescaled; flips over many draws; inference
// passes the input through; gradients against finite differences; configs
// read from and written to Keras JSON.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "cnn/error.h"
#include "cnn/io/keras_json.h"
#include "cnn/nn/layers.h"
#include "cnn/optim/optimizer.h"
#include "test_util.h"

namespace cnn {
namespace {

using nlohmann::json;

// One image of h x w, channel 0 holding f(row, col), channel 1 its negative.
template <typename F>
Tensor image(int64_t h, int64_t w, F f) {
  Tensor t({1, h, w, 2});
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      t[(y * w + x) * 2] = static_cast<float>(f(y, x));
      t[(y * w + x) * 2 + 1] = -static_cast<float>(f(y, x));
    }
  return t;
}

Tensor train_call(nn::Layer& layer, const Tensor& x, uint64_t seed = 1) {
  Rng rng(seed);
  nn::CallContext ctx;
  ctx.training = true;
  ctx.rng = &rng;
  return layer.call({x}, ctx);
}

nn::FactorRange fixed(float f) { return {f, f, false}; }

void expect_image(const Tensor& got, const Tensor& want, double tol = 1e-5) {
  ASSERT_EQ(got.shape(), want.shape());
  for (int64_t i = 0; i < got.numel(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "value " << i;
}

TEST(RandomImage, AQuarterTurnIsRot90) {
  const Tensor x = image(5, 5, [](int64_t y, int64_t x) { return y * 5 + x; });
  nn::RandomRotation ccw(fixed(0.25f));  // a quarter of 2 pi, counter-clockwise: np.rot90(x)
  expect_image(train_call(ccw, x), image(5, 5, [](int64_t y, int64_t x) { return x * 5 + (4 - y); }));
  nn::RandomRotation cw(fixed(-0.25f));  // np.rot90(x, -1)
  expect_image(train_call(cw, x), image(5, 5, [](int64_t y, int64_t x) { return (4 - x) * 5 + y; }));
  // A half turn of a 3 x 4 image turns it upside down and mirrors it.
  nn::RandomRotation half(fixed(0.5f));
  expect_image(train_call(half, image(3, 4, [](int64_t y, int64_t x) { return y * 4 + x; })),
               image(3, 4, [](int64_t y, int64_t x) { return (2 - y) * 4 + (3 - x); }));
}

// Rows shifted down by two (0.4 of 5), columns left by one (-0.2 of 5):
// reflect mirrors about the edge, wrap tiles, nearest repeats the edge,
// constant reads fill_value.
TEST(RandomImage, WholePixelShiftsShowEachFillMode) {
  const Tensor rows = image(5, 5, [](int64_t y, int64_t) { return y; });
  const Tensor cols = image(5, 5, [](int64_t, int64_t x) { return x; });
  struct Case {
    nn::ImageFill fill;
    std::vector<float> down, left;
  };
  for (const Case& c : {Case{nn::ImageFill::Reflect, {1, 0, 0, 1, 2}, {1, 2, 3, 4, 4}},
                        Case{nn::ImageFill::Wrap, {3, 4, 0, 1, 2}, {1, 2, 3, 4, 0}},
                        Case{nn::ImageFill::Nearest, {0, 0, 0, 1, 2}, {1, 2, 3, 4, 4}},
                        Case{nn::ImageFill::Constant, {9, 9, 0, 1, 2}, {1, 2, 3, 4, 9}}}) {
    nn::ImageTransformOptions o;
    o.fill_mode = c.fill;
    o.fill_value = 9.0f;
    for (const auto interpolation : {nn::ImageInterpolation::Bilinear, nn::ImageInterpolation::Nearest}) {
      o.interpolation = interpolation;
      SCOPED_TRACE(static_cast<int>(c.fill) * 2 + static_cast<int>(interpolation));
      // The fill reads 9 in both channels; a pixel's negative in the second.
      auto want = [](const std::vector<float>& along, bool by_row) {
        Tensor t = image(5, 5, [&](int64_t y, int64_t x) { return along[by_row ? y : x]; });
        for (int64_t i = 1; i < t.numel(); i += 2)
          if (t[i - 1] == 9.0f) t[i] = 9.0f;
        return t;
      };
      nn::RandomTranslation down(fixed(0.4f), fixed(0.0f), o);
      expect_image(train_call(down, rows), want(c.down, true));
      nn::RandomTranslation left(fixed(0.0f), fixed(-0.2f), o);
      expect_image(train_call(left, cols), want(c.left, false));
    }
  }
}

// Half a pixel right with a constant fill: as TensorFlow's transform
// samples, the first column blends the fill with the edge pixel, each
// other column two neighbours.
TEST(RandomImage, AHalfPixelShiftBlendsTheConstantFill) {
  nn::ImageTransformOptions o;
  o.fill_mode = nn::ImageFill::Constant;
  o.fill_value = 9.0f;
  nn::RandomTranslation right(fixed(0.0f), fixed(0.1f), o);  // 0.1 of 5 columns
  const Tensor y = train_call(right, image(3, 5, [](int64_t, int64_t x) { return 2 * x; }));
  const std::vector<float> want{0.5f * 9, 1, 3, 5, 7}, negative{0.5f * 9, -1, -3, -5, -7};
  for (int64_t x = 0; x < 5; ++x) {
    EXPECT_NEAR(y[x * 2], want[x], 1e-5) << x;
    EXPECT_NEAR(y[x * 2 + 1], negative[x], 1e-5) << x;
  }
}

// Zoomed in to half about the centre, a ramp is the ramp at half the slope
// (bilinear sampling of a linear ramp is exact), or its nearest pixels
// (TensorFlow rounds halves away from zero).
TEST(RandomImage, AZoomOfARampIsTheRampRescaled) {
  const Tensor ramp = image(7, 9, [](int64_t, int64_t x) { return x; });
  nn::RandomZoom in(fixed(-0.5f), std::nullopt);
  expect_image(train_call(in, ramp), image(7, 9, [](int64_t, int64_t x) { return 0.5 * x + 2; }));
  nn::ImageTransformOptions o;
  o.interpolation = nn::ImageInterpolation::Nearest;
  nn::RandomZoom nearest(fixed(-0.5f), std::nullopt, o);
  const std::vector<float> want{2, 3, 3, 4, 4, 5, 5, 6, 6};
  expect_image(train_call(nearest, ramp), image(7, 9, [&](int64_t, int64_t x) { return want[x]; }));
  // A width factor of its own: the rows untouched.
  nn::RandomZoom wide(fixed(0.0f), fixed(-0.5f));
  const Tensor both = image(7, 9, [](int64_t y, int64_t x) { return 10 * y + x; });
  expect_image(train_call(wide, both),
               image(7, 9, [](int64_t y, int64_t x) { return 10 * y + 0.5 * x + 2; }));
}

// Each image is flipped or not on each axis the mode names, about half of
// them each way.
TEST(RandomImage, FlipsEachImageOnTheAxesItsModeNames) {
  const int64_t n = 64, h = 2, w = 3;
  Tensor x({n, h, w, 1});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = static_cast<float>(i % (h * w));
  for (const std::string mode : {"horizontal", "vertical", "horizontal_and_vertical"}) {
    SCOPED_TRACE(mode);
    nn::RandomFlip flip(mode);
    const Tensor y = train_call(flip, x, 3);
    std::map<std::pair<bool, bool>, int> kinds;
    for (int64_t b = 0; b < n; ++b) {
      std::optional<std::pair<bool, bool>> kind;
      for (bool lr : {false, true})
        for (bool ud : {false, true}) {
          bool same = true;
          for (int64_t r = 0; r < h; ++r)
            for (int64_t c = 0; c < w; ++c)
              same = same && y[b * h * w + r * w + c] ==
                                 x[b * h * w + (ud ? h - 1 - r : r) * w + (lr ? w - 1 - c : c)];
          if (same && !kind) kind = std::make_pair(lr, ud);
        }
      ASSERT_TRUE(kind) << "image " << b << " is no flip of its input";
      ++kinds[*kind];
    }
    const bool lr = mode != "vertical", ud = mode != "horizontal";
    for (const auto& [kind, count] : kinds) {
      EXPECT_TRUE(lr || !kind.first);
      EXPECT_TRUE(ud || !kind.second);
      EXPECT_GT(count, n / (lr && ud ? 4 : 2) / 3) << kind.first << kind.second;
    }
    EXPECT_EQ(kinds.size(), (lr && ud) ? 4u : 2u);
  }
}

TEST(RandomImage, InferencePassesTheInputThrough) {
  const Tensor x = test::random_tensor({2, 6, 5, 3}, 4);
  nn::CallContext ctx;  // training = false
  nn::RandomRotation r(nn::FactorRange{-0.2f, 0.2f, true});
  nn::RandomFlip f;
  EXPECT_EQ(r.call({x}, ctx).to_vector(), x.to_vector());
  EXPECT_EQ(f.call({x}, ctx).to_vector(), x.to_vector());
}

// A seed gives the layer its own stream; without one the training run's
// stream draws.
TEST(RandomImage, ASeedRepeatsTheDraws) {
  const Tensor x = test::random_tensor({4, 6, 6, 1}, 5);
  nn::RandomRotation a(nn::FactorRange{-0.3f, 0.3f, true}, {}, 11),
      b(nn::FactorRange{-0.3f, 0.3f, true}, {}, 11);
  EXPECT_EQ(train_call(a, x, 1).to_vector(), train_call(b, x, 2).to_vector());
  // The layer's own stream moves on from call to call, as Keras's SeedGenerator.
  const std::vector<float> first = train_call(a, x).to_vector();
  EXPECT_NE(train_call(a, x).to_vector(), first);
  nn::RandomRotation c(nn::FactorRange{-0.3f, 0.3f, true});
  EXPECT_EQ(train_call(c, x, 5).to_vector(), train_call(c, x, 5).to_vector());
  EXPECT_NE(train_call(c, x, 5).to_vector(), train_call(c, x, 6).to_vector());
}

// The transforms are linear in the input (the fill a constant): their
// gradient adds each output's back along its taps. The CPU forward samples
// pixels whose taps all lie inside by a shorter path than the backward's,
// so this also holds the two to the same taps.
TEST(RandomImage, GradientsMatchFiniteDifferences) {
  nn::ImageTransformOptions constant;
  constant.fill_mode = nn::ImageFill::Constant;
  constant.fill_value = 2.0f;
  std::vector<std::unique_ptr<nn::RandomImageLayer>> layers;
  layers.push_back(std::make_unique<nn::RandomRotation>(fixed(1.0f / 12)));
  layers.push_back(std::make_unique<nn::RandomRotation>(fixed(0.1f), constant));
  layers.push_back(std::make_unique<nn::RandomZoom>(fixed(0.3f), fixed(-0.2f)));
  layers.push_back(std::make_unique<nn::RandomTranslation>(fixed(0.13f), fixed(-0.31f)));
  layers.push_back(std::make_unique<nn::RandomFlip>("horizontal_and_vertical"));
  // Wide ranges: no clipping near the random values.
  layers.push_back(std::make_unique<nn::RandomContrast>(nn::FactorRange{0.5f, 0.5f, true},
                                                        std::array<float, 2>{-100.0f, 100.0f}));
  layers.push_back(std::make_unique<nn::RandomBrightness>(nn::FactorRange{-0.1f, 0.1f, true},
                                                          std::array<float, 2>{-100.0f, 100.0f}));
  for (auto& layer : layers) {
    SCOPED_TRACE(layer->class_name());
    Tensor x = test::random_tensor({2, 5, 6, 3}, 8);
    x.set_requires_grad(true);
    EXPECT_LT(test::gradcheck([&](const std::vector<Tensor>& in) { return train_call(*layer, in[0]); }, {x}),
              1e-3);
  }
}

// Contrast: each image's channels spread about their own means by one
// factor drawn for the image, clipped to value_range; brightness: one
// delta an image, clipped.
TEST(RandomImage, ContrastAndBrightnessChangeEachImageByOneDraw) {
  const int64_t n = 6, h = 2, w = 2;
  Tensor x({n, h, w, 2});
  for (int64_t b = 0; b < n; ++b)
    for (int64_t p = 0; p < h * w; ++p) {
      x[(b * h * w + p) * 2] = static_cast<float>(10 * p);    // mean 15
      x[(b * h * w + p) * 2 + 1] = p == 3 ? 250.0f : 200.0f;  // mean 212.5, one pixel near the top
    }
  nn::RandomContrast contrast(nn::FactorRange{0.5f, 0.9f, false});  // factors in [0.5, 1.9]
  const Tensor c = train_call(contrast, x);
  std::vector<float> factors;
  for (int64_t b = 0; b < n; ++b) {
    const float* y = c.data() + b * h * w * 2;
    const float f = (y[3 * 2] - 15.0f) / (30.0f - 15.0f);  // pixel 3, channel 0: 15 + 15 f, not clipped
    EXPECT_GE(f, 0.5f);
    EXPECT_LE(f, 1.9f);
    factors.push_back(f);
    for (int64_t p = 0; p < h * w; ++p) {
      EXPECT_NEAR(y[p * 2], std::clamp(15.0f + f * (10.0f * p - 15.0f), 0.0f, 255.0f), 1e-3) << b << " " << p;
      const float v = p == 3 ? 250.0f : 200.0f;
      EXPECT_NEAR(y[p * 2 + 1], std::min(255.0f, 212.5f + f * (v - 212.5f)), 1e-3) << b << " " << p;
    }
  }
  EXPECT_NE(factors.front(), factors.back());
  nn::RandomBrightness brightness(nn::FactorRange{-0.2f, 0.2f, true});  // deltas within +-51
  const Tensor d = train_call(brightness, x);
  std::vector<float> deltas;
  for (int64_t b = 0; b < n; ++b) {
    const float delta = d[b * h * w * 2 + 1] - 200.0f;  // pixel 0, channel 1: 200 + delta, not clipped
    EXPECT_LE(std::abs(delta), 51.0f);
    deltas.push_back(delta);
    for (int64_t i = 0; i < h * w * 2; ++i)
      EXPECT_NEAR(d[b * h * w * 2 + i], std::clamp(x[b * h * w * 2 + i] + delta, 0.0f, 255.0f), 1e-3);
  }
  EXPECT_NE(deltas.front(), deltas.back());
}

// Where the clip bites, no gradient flows back.
TEST(RandomImage, TheClipStopsTheGradient) {
  Tensor x({1, 1, 3, 1}, std::vector<float>{0.05f, 0.5f, 0.95f});
  x.set_requires_grad(true);
  nn::RandomBrightness up(nn::FactorRange{0.2f, 0.2f, false}, {0.0f, 1.0f});  // + 0.2 exactly
  const Tensor y = train_call(up, x);
  EXPECT_EQ(y.to_vector(), (std::vector<float>{0.25f, 0.7f, 1.0f}));
  test::backward_with(y, Tensor({1, 1, 3, 1}, 1.0f));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{1.0f, 1.0f, 0.0f}));

  // Contrast in [0.5, 1.5] clipped to [-1, 1]: the values far outside stay
  // clipped, those near the mean stay inside, whatever the draw, so finite
  // differences hold away from the clip's corners.
  Tensor spread({1, 1, 7, 1}, std::vector<float>{-3.0f, -2.5f, -0.3f, 0.2f, 0.4f, 2.6f, 3.0f});
  spread.set_requires_grad(true);
  nn::RandomContrast contrast(nn::FactorRange{0.5f, 0.5f, false}, {-1.0f, 1.0f});
  EXPECT_LT(test::gradcheck([&](const std::vector<Tensor>& in) { return train_call(contrast, in[0]); },
                            {spread}, 1e-3),
            1e-3);
}

const char* kAugmented = R"({"class_name": "Sequential", "config": {"name": "sequential", "layers": [
  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 12, 12, 3], "name": "input_1"}},
  {"class_name": "RandomFlip", "config": {"name": "random_flip", "trainable": true, "dtype": "float32",
   "mode": "horizontal", "seed": null}},
  {"class_name": "RandomRotation", "config": {"name": "random_rotation", "trainable": true, "dtype": "float32",
   "seed": null, "factor": 0.1, "fill_mode": "reflect", "fill_value": 0.0, "interpolation": "bilinear"}},
  {"class_name": "RandomZoom", "config": {"name": "random_zoom", "trainable": true, "dtype": "float32",
   "seed": null, "height_factor": 0.1, "width_factor": null, "fill_mode": "reflect", "fill_value": 0.0,
   "interpolation": "bilinear"}},
  {"class_name": "RandomTranslation", "config": {"name": "random_translation", "trainable": true,
   "dtype": "float32", "seed": 7, "height_factor": [-0.1, 0.2], "width_factor": 0.1, "fill_mode": "constant",
   "fill_value": 1.0, "interpolation": "nearest"}},
  {"class_name": "RandomContrast", "config": {"name": "random_contrast", "trainable": true, "dtype": "float32",
   "seed": null, "factor": [0.2, 0.2]}},
  {"class_name": "RandomBrightness", "config": {"name": "random_brightness", "trainable": true,
   "dtype": "float32", "seed": 3, "factor": [-0.2, 0.3], "value_range": [0.0, 255.0]}},
  {"class_name": "Rescaling", "config": {"name": "rescaling", "scale": 0.00392156862745098, "offset": 0.0}},
  {"class_name": "Conv2D", "config": {"name": "conv2d", "filters": 4, "kernel_size": [3, 3], "activation": "relu"}},
  {"class_name": "Flatten", "config": {"name": "flatten"}},
  {"class_name": "Dense", "config": {"name": "dense", "units": 3, "activation": "softmax"}}]}})";

// TensorFlow's image classification tutorial's model: augmentation layers
// first. Read, written back with the same configs, trained (augmented) and
// predicting (not).
TEST(RandomImage, KerasModelsWithAugmentationLayersLoadTrainAndSave) {
  auto model = io::model_from_json(kAugmented, 3);
  const json in = json::parse(kAugmented)["config"]["layers"];
  const json out = json::parse(io::model_to_json(*model))["config"]["layers"];
  for (size_t i = 1; i <= 6; ++i) EXPECT_EQ(out[i]["config"], in[i]["config"]) << in[i]["class_name"];
  EXPECT_NE(model->summary().find(
                " random_translation (RandomT  (None, 12, 12, 3)        0         \n ranslation)"),
            std::string::npos)
      << model->summary();

  // The random layers alone: each training call transforms, inference does not.
  json front = json::parse(kAugmented);
  front["config"]["layers"] = json(in.begin(), in.begin() + 7);
  auto augment = io::model_from_json(front.dump());
  const Tensor images = test::random_tensor({4, 12, 12, 3}, 10, 100.0f);
  Rng rng(3);
  EXPECT_NE(augment->call({images}, true, &rng)[0].to_vector(), images.to_vector());
  EXPECT_EQ(augment->call({images}, false, &rng)[0].to_vector(), images.to_vector());

  Tensor x = test::random_tensor({16, 12, 12, 3}, 9, 100.0f);
  Tensor y({16});
  for (int64_t i = 0; i < 16; ++i) y[i] = static_cast<float>(i % 3);
  model->compile(std::make_shared<optim::Adam>(0.01f), "sparse_categorical_crossentropy");
  const Tensor before = model->predict(x);
  EXPECT_EQ(model->predict(x).to_vector(), before.to_vector());  // no augmentation in inference
  const train::History h = model->fit(x, y, {.batch_size = 8, .epochs = 3});
  EXPECT_LT(h.history.at("loss").back(), h.history.at("loss").front());
}

// As Keras 3 reads them: a negative number f is the range [f, -f], a pair
// is taken in order.
TEST(RandomImage, FactorsAreReadAsKeras3ReadsThem) {
  auto model = io::model_from_json(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 8, 8, 1], "name": "in"}},
      {"class_name": "RandomRotation", "config": {"name": "r", "factor": -0.1}},
      {"class_name": "RandomZoom", "config": {"name": "z", "height_factor": [0.2, -0.3]}}]}})");
  const json layers = json::parse(io::model_to_json(*model))["config"]["layers"];
  EXPECT_FLOAT_EQ(layers[1]["config"]["factor"].get<float>(), 0.1f);
  EXPECT_FLOAT_EQ(layers[2]["config"]["height_factor"][0].get<float>(), -0.3f);
  EXPECT_FLOAT_EQ(layers[2]["config"]["height_factor"][1].get<float>(), 0.2f);
}

// RandomContrast's factor as tf.keras 2 reads it: one number f is [f, f]
// (written as that pair, which Keras 3 reads alike), a pair as given.
TEST(RandomImage, ContrastFactorsAreReadAsTfKeras2ReadsThem) {
  auto model = io::model_from_json(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 8, 8, 1], "name": "in"}},
      {"class_name": "RandomContrast", "config": {"name": "a", "factor": 0.3}},
      {"class_name": "RandomContrast", "config": {"name": "b", "factor": [0.5, 0.2], "value_range": [1, 0]}}]}})");
  const json layers = json::parse(io::model_to_json(*model))["config"]["layers"];
  EXPECT_EQ(layers[1]["config"]["factor"], json::parse("[0.3, 0.3]"));
  EXPECT_EQ(layers[2]["config"]["factor"], json::parse("[0.5, 0.2]"));
  EXPECT_EQ(layers[2]["config"]["value_range"], json::parse("[0.0, 1.0]"));  // in order, as Keras 3 takes it
}

TEST(RandomImage, BadConfigsAreNamed) {
  auto error = [](const std::string& cls, const std::string& cfg) {
    return test::error_of<ValueError>([&] {
      io::model_from_json(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 8, 8, 1], "name": "in"}},
        {"class_name": ")" +
                          cls + R"(", "config": {"name": "r", )" + cfg + "}}]}}");
    });
  };
  EXPECT_NE(
      error("RandomRotation", R"("factor": 0.1, "fill_mode": "mirror")")
          .find("layer 'r' (RandomRotation): fill_mode 'mirror' is not supported, expected reflect, wrap, "
                "constant or nearest"),
      std::string::npos);
  EXPECT_NE(test::error_of<ValueError>([] {
              nn::RandomRotation(nn::FactorRange{0.2f, -0.2f, false});
            }).find("RandomRotation: factor [0.2, -0.2] must be a range of finite numbers, lower <= upper"),
            std::string::npos);
  EXPECT_NE(error("RandomRotation", R"("factor": "x")").find("'factor' must be a number or a pair"),
            std::string::npos);
  EXPECT_NE(error("RandomRotation", R"("interpolation": "bicubic", "factor": 0.1)")
                .find("interpolation 'bicubic' is not supported, expected bilinear or nearest"),
            std::string::npos);
  EXPECT_NE(error("RandomZoom", R"("height_factor": 1.5)")
                .find("layer 'r' (RandomZoom): height_factor [-1.5, 1.5] must lie within [-1, 1]"),
            std::string::npos);
  EXPECT_NE(error("RandomTranslation", R"("height_factor": 0.1)").find("needs 'width_factor'"),
            std::string::npos);
  EXPECT_NE(
      error("RandomFlip", R"("mode": "diagonal")")
          .find("layer 'r' (RandomFlip): mode 'diagonal' is not supported, expected horizontal, vertical or "
                "horizontal_and_vertical"),
      std::string::npos);
  EXPECT_NE(error("RandomContrast", R"("factor": [-0.1, 0.2])")
                .find("layer 'r' (RandomContrast): factor [-0.1, 0.2] must be two numbers >= 0"),
            std::string::npos);
  EXPECT_NE(error("RandomBrightness", R"("factor": 1.5)").find("factor [-1.5, 1.5] must lie within [-1, 1]"),
            std::string::npos);
  EXPECT_NE(error("RandomBrightness", R"("factor": 0.1, "value_range": [1, 1])")
                .find("value_range [1, 1] must be [low, high] with low < high"),
            std::string::npos);
  const std::string rank = test::error_of<ShapeError>([] {
    io::model_from_json(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 8], "name": "in"}},
      {"class_name": "RandomFlip", "config": {"name": "r"}}]}})");
  });
  EXPECT_NE(rank.find("input (None, 8) must be images (batch, height, width, channels)"), std::string::npos)
      << rank;
}

}  // namespace
}  // namespace cnn
