// Keras-style training: optimizer rules, frozen layers, callbacks, and the
// LeNet reaching >= 95% validation accuracy reproducibly.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "cnn/data/synthetic.h"
#include "cnn/error.h"
#include "cnn/nn/layers.h"
#include "cnn/nn/presets.h"
#include "cnn/ops.h"
#include "cnn/optim/optimizer.h"
#include "test_util.h"

using namespace cnn;

namespace {

nn::Weight make_weight(std::vector<float> values) {
  nn::Weight w{"w", Tensor({static_cast<int64_t>(values.size())}, values), true};
  w.value.set_requires_grad(true);
  return w;
}

void set_grad(nn::Weight& w, std::vector<float> g) {
  for (size_t i = 0; i < g.size(); ++i) w.value.grad_data()[i] = g[i];
}

}  // namespace

TEST(Optimizers, AdamFollowsKerasUpdate) {
  optim::Adam adam;  // Keras defaults
  EXPECT_FLOAT_EQ(adam.learning_rate(), 0.001f);
  nn::Weight w = make_weight({1.0f, -2.0f});
  double m[2] = {0, 0}, v[2] = {0, 0}, x[2] = {1.0, -2.0};
  const double g[3][2] = {{0.5, -1.0}, {0.25, 2.0}, {-0.75, 0.1}};
  for (int t = 1; t <= 3; ++t) {
    set_grad(w, {static_cast<float>(g[t - 1][0]), static_cast<float>(g[t - 1][1])});
    adam.apply({&w});
    const double alpha = 0.001 * std::sqrt(1 - std::pow(0.999, t)) / (1 - std::pow(0.9, t));
    for (int i = 0; i < 2; ++i) {
      m[i] += (g[t - 1][i] - m[i]) * 0.1;
      v[i] += (g[t - 1][i] * g[t - 1][i] - v[i]) * 0.001;
      x[i] -= alpha * m[i] / (std::sqrt(v[i]) + 1e-7);
      EXPECT_NEAR(w.value[i], x[i], 1e-6) << "step " << t;
    }
    w.value.zero_grad();
  }
  EXPECT_EQ(adam.iterations(), 3);
}

// The update itself, with slots the test makes and reads.
struct OpenAdam : optim::Adam {
  OpenAdam() { iterations_ = 1; }  // as apply() counts the step before updating
  using optim::Adam::update;
};
struct OpenSgd : optim::SGD {
  OpenSgd() : optim::SGD(0.1f, 0.9f) { iterations_ = 1; }
  using optim::SGD::update;
};

TEST(Optimizers, MomentsThatTurnSubnormalAreFlushedToZero) {
  // Just above FLT_MIN: one step of decay takes each below it.
  const float m0 = 1.2e-38f, v0 = 1.176e-38f;
  nn::Weight w = make_weight({1.0f, 1.0f, 1.0f});
  set_grad(w, {0.0f, 1e-20f, 0.5f});  // 1e-20 squared is subnormal too
  std::vector<Tensor> slots{Tensor({3}, {m0, 0.0f, 0.0f}), Tensor({3}, {v0, 0.0f, 0.0f})};
  OpenAdam adam;
  adam.update(w.value, slots);
  EXPECT_EQ(slots[0][0], 0.0f);
  EXPECT_EQ(slots[1][0], 0.0f);
  EXPECT_FLOAT_EQ(slots[0][1], 1e-21f);
  EXPECT_EQ(slots[1][1], 0.0f);
  EXPECT_FLOAT_EQ(slots[0][2], 0.05f);  // normal values keep Keras's update
  EXPECT_NEAR(slots[1][2], 0.00025f, 1e-8);
  EXPECT_EQ(w.value[0], 1.0f);

  nn::Weight s = make_weight({1.0f});
  set_grad(s, {0.0f});
  std::vector<Tensor> momentum{Tensor({1}, std::vector<float>{m0})};
  OpenSgd sgd;
  sgd.update(s.value, momentum);
  EXPECT_EQ(momentum[0][0], 0.0f);
  EXPECT_EQ(s.value[0], 1.0f);
}

TEST(Optimizers, SgdMomentumAndNesterov) {
  for (bool nesterov : {false, true}) {
    optim::SGD sgd(0.1f, 0.9f, nesterov);
    nn::Weight w = make_weight({1.0f});
    double m = 0, x = 1.0;
    for (double g : {1.0, -0.5, 2.0}) {
      set_grad(w, {static_cast<float>(g)});
      sgd.apply({&w});
      w.value.zero_grad();
      m = 0.9 * m - 0.1 * g;
      x += nesterov ? 0.9 * m - 0.1 * g : m;
      EXPECT_NEAR(w.value[0], x, 1e-6);
    }
  }
  optim::SGD plain;  // Keras default learning_rate 0.01, no momentum
  nn::Weight w = make_weight({1.0f});
  set_grad(w, {2.0f});
  plain.apply({&w});
  EXPECT_FLOAT_EQ(w.value[0], 1.0f - 0.02f);
}

TEST(Optimizers, RejectBadSettings) {
  EXPECT_THROW(optim::Adam(-1.0f), ValueError);
  EXPECT_THROW(optim::Adam(0.001f, 1.5f), ValueError);
  EXPECT_THROW(optim::SGD(0.01f, -0.1f), ValueError);
}

// Settings of a Keras file that this engine does not implement are refused
// rather than dropped (the update would silently differ); their defaults,
// which Keras writes into every file, are accepted.
TEST(Optimizers, UnsupportedKerasSettingsAreRefused) {
  using nlohmann::json;
  for (const char* key : {"amsgrad", "decay", "clipnorm", "weight_decay", "use_ema"}) {
    json cfg = {{"class_name", "Adam"}, {"config", {{"learning_rate", 0.01}}}};
    cfg["config"][key] =
        std::string(key) == "amsgrad" || std::string(key) == "use_ema" ? json(true) : json(0.5);
    try {
      optim::optimizer_from_config(cfg);
      ADD_FAILURE() << key;
    } catch (const ValueError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + key + "'"), std::string::npos) << e.what();
    }
  }
  const json defaults =
      json::parse(R"({"class_name": "Adam", "config": {"name": "Adam", "learning_rate": 0.01,
      "decay": 0.0, "amsgrad": false, "clipnorm": null, "global_clipnorm": null, "clipvalue": null,
      "weight_decay": null, "use_ema": false, "ema_momentum": 0.99, "ema_overwrite_frequency": null,
      "jit_compile": true, "is_legacy_optimizer": false, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07}})");
  EXPECT_FLOAT_EQ(optim::optimizer_from_config(defaults)->learning_rate(), 0.01f);
  EXPECT_NO_THROW(optim::Adam(0.0f));  // Keras allows a learning rate of 0
  try {
    optim::optimizer_from_config(json::parse(R"({"class_name": "RMSprop", "config": {"rho": 0.9}})"));
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("optimizer 'RMSprop' is not supported, expected Adam or SGD"),
              std::string::npos)
        << e.what();
  }
}

// class_mode='binary' gives targets of shape (N,) for a Dense(1) output:
// Keras squeezes or expands them to the output's rank, and so does this.
// 'accuracy' is chosen from the shapes, as Keras does, not from the loss.
TEST(Training, TargetsOfRankOneAndAccuracyFromTheShapes) {
  nn::Sequential binary({std::make_shared<nn::InputLayer>(Shape{4}),
                         std::make_shared<nn::Dense>(nn::DenseOptions{1, "sigmoid"})});
  const Tensor x = test::random_tensor({8, 4}, 5, 1.0f);
  const Tensor y({8}, std::vector<float>{0, 1, 1, 0, 1, 0, 0, 1});
  binary.compile(std::make_shared<optim::Adam>(), "binary_crossentropy", {"accuracy"});
  EXPECT_NO_THROW(binary.fit(x, y, {.batch_size = 4, .epochs = 1}));
  const Tensor p = binary.predict(x);
  const train::Logs logs = binary.evaluate(x, y);
  EXPECT_NEAR(logs.at("accuracy"), ops::binary_accuracy(p, ops::reshape(y, {8, 1}), 0.5f), 1e-9);
  binary.compile(std::make_shared<optim::SGD>(), "mse");
  EXPECT_NO_THROW(binary.fit(x, y, {.batch_size = 8, .epochs = 1}));

  // binary_crossentropy on three one-hot classes: 'accuracy' is categorical
  // (Keras: 0.25 here), not the element-wise binary one (0.667).
  nn::Sequential three({std::make_shared<nn::InputLayer>(Shape{2}),
                        std::make_shared<nn::Dense>(nn::DenseOptions{3, "sigmoid"})});
  nn::Layer& dense = *three.layers().back();
  dense.weights()[0].value.fill(0.0f);
  for (int k = 0; k < 3; ++k) dense.weights()[1].value.data()[k] = k == 2 ? -4.0f : -5.0f;
  const Tensor onehot({4, 3}, std::vector<float>{1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1});
  three.compile(std::make_shared<optim::Adam>(), "binary_crossentropy", {"accuracy"});
  EXPECT_DOUBLE_EQ(three.evaluate(Tensor::zeros({4, 2}), onehot).at("accuracy"), 0.25);
  // 'accuracy' beside the accuracy it resolves to, as Keras files list them.
  three.compile(std::make_shared<optim::Adam>(), "categorical_crossentropy",
                {"accuracy", "categorical_accuracy"});
  const train::Logs both = three.evaluate(Tensor::zeros({4, 2}), onehot);
  EXPECT_DOUBLE_EQ(both.at("accuracy"), 0.25);
  EXPECT_DOUBLE_EQ(both.at("categorical_accuracy"), 0.25);
}

// validation_data overrides validation_split, as in Keras; with a dataset
// (a flow) both are refused, not ignored.
TEST(Training, ValidationDataOverridesTheSplitAndDatasetsRefuseBoth) {
  auto model = nn::lenet({12, 12, 1}, 3, 1);
  auto data = data::make_synthetic_task({40, 12, 12, 1, 3, 0.1f, 2});
  auto val = data::make_synthetic_task({9, 12, 12, 1, 3, 0.1f, 3});
  model->compile(std::make_shared<optim::Adam>(), "sparse_categorical_crossentropy", {"accuracy"});
  struct Samples : train::Callback {
    int64_t samples = 0;
    void on_train_begin(nn::Model&, const train::FitParams& p) override { samples = p.samples; }
  } seen;
  train::History h = model->fit(data.x, data.y,
                                {.batch_size = 8,
                                 .epochs = 1,
                                 .validation_data = std::make_pair(val.x, val.y),
                                 .validation_split = 0.5,
                                 .callbacks = {&seen}});
  EXPECT_EQ(seen.samples, 40);  // every sample trained: the split was not taken
  EXPECT_NEAR(h.history.at("val_loss")[0], model->evaluate(val.x, val.y).at("loss"), 1e-5);
  train::ArrayDataset flow(data.x, data.y, 8);
  try {
    model->fit(flow, {.epochs = 1, .validation_split = 0.2});
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("validation_split and validation_data are for x and y arrays"),
              std::string::npos)
        << e.what();
  }
}

// A second fit() on the same model goes on to new passes (new shuffles and
// dropout masks), as Keras's random state goes on; it once replayed the
// first fit()'s. A fresh model starts again from the first.
TEST(Training, ASecondFitDrawsNewPasses) {
  struct Passes : train::ArrayDataset {
    using ArrayDataset::ArrayDataset;
    std::vector<int> seen;
    void on_epoch_begin(int epoch) override {
      seen.push_back(epoch);
      ArrayDataset::on_epoch_begin(epoch);
    }
  };
  auto data = data::make_synthetic_task({16, 12, 12, 1, 3, 0.1f, 2});
  for (int run = 0; run < 2; ++run) {
    auto model = nn::lenet({12, 12, 1}, 3, 1);
    model->compile(std::make_shared<optim::Adam>(), "sparse_categorical_crossentropy");
    Passes passes(data.x, data.y, 8, true, 3);
    model->fit(passes, {.epochs = 2});
    model->fit(passes, {.epochs = 1});
    EXPECT_EQ(passes.seen, (std::vector<int>{0, 1, 2}));
  }
}

// A per-sample shape past what one tensor may hold is named where it starts,
// not wrapped into a (None, 0) Flatten.
TEST(Layers, OversizedShapesAreRefusedByName) {
  try {
    nn::InputLayer in(Shape{int64_t{1} << 21, int64_t{1} << 21, int64_t{1} << 22});
    FAIL();
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("InputLayer: input shape"), std::string::npos) << e.what();
  }
  EXPECT_THROW(nn::Reshape(Shape{int64_t{1} << 40, int64_t{1} << 40}), ShapeError);
}

TEST(Training, FrozenLayersAndBatchNormStatsDoNotChange) {
  auto in = nn::Input({6, 6, 2});
  nn::Conv2DOptions c;
  c.filters = 3;
  auto conv = std::make_shared<nn::Conv2D>(c);
  auto bn = std::make_shared<nn::BatchNormalization>();
  auto head = std::make_shared<nn::Dense>(nn::DenseOptions{3, "softmax"});
  auto x = nn::apply_layer(bn, nn::apply_layer(conv, in));
  x = nn::apply_layer(head, nn::apply_layer(std::make_shared<nn::GlobalAveragePooling2D>(), x));
  nn::Model model({in}, {x}, "model", 5);
  conv->set_trainable(false);
  bn->set_trainable(false);
  EXPECT_EQ(model.count_trainable_params(), 3 * 3 + 3);
  std::vector<std::vector<float>> frozen;
  for (nn::Layer* l : std::vector<nn::Layer*>{conv.get(), bn.get()})
    for (auto& w : l->weights()) frozen.push_back(w.value.to_vector());
  std::vector<float> head_before = head->weights()[0].value.to_vector();

  auto data = data::make_synthetic_task({64, 6, 6, 2, 3, 0.1f, 1});
  model.compile(std::make_shared<optim::Adam>(0.01f), "sparse_categorical_crossentropy", {"accuracy"});
  model.fit(data.x, data.y, {.batch_size = 16, .epochs = 2});
  size_t k = 0;
  for (nn::Layer* l : std::vector<nn::Layer*>{conv.get(), bn.get()})
    for (auto& w : l->weights()) EXPECT_EQ(w.value.to_vector(), frozen[k++]) << l->name() << "/" << w.name;
  EXPECT_NE(head->weights()[0].value.to_vector(), head_before);
}

TEST(Training, BatchNormMovingStatsUpdateWhenTrainable) {
  nn::Sequential model({std::make_shared<nn::InputLayer>(Shape{4}),
                        std::make_shared<nn::BatchNormalization>(),
                        std::make_shared<nn::Dense>(nn::DenseOptions{2, "softmax"})});
  auto bn = model.get_layer("batch_normalization");
  Tensor x = test::random_tensor({8, 4}, 3, 2.0f);
  Tensor y({8}, std::vector<float>{0, 1, 0, 1, 1, 0, 0, 1});
  model.compile(std::make_shared<optim::SGD>(), "sparse_categorical_crossentropy");
  model.fit(x, y, {.batch_size = 8, .epochs = 1, .shuffle = false});
  // One step of moving = 0.99 * moving + 0.01 * batch (2-D input: biased variance).
  for (int c = 0; c < 4; ++c) {
    double mean = 0, var = 0;
    for (int n = 0; n < 8; ++n) mean += x[n * 4 + c] / 8.0;
    for (int n = 0; n < 8; ++n) var += (x[n * 4 + c] - mean) * (x[n * 4 + c] - mean) / 8.0;
    EXPECT_NEAR(bn->weights()[2].value[c], 0.01 * mean, 1e-6);
    EXPECT_NEAR(bn->weights()[3].value[c], 0.99 + 0.01 * var, 1e-6);
  }
}

TEST(Training, CallbacksSeeProgressAndCanStop) {
  auto model = nn::lenet({12, 12, 1}, 3, 1);
  auto data = data::make_synthetic_task({100, 12, 12, 1, 3, 0.1f, 2});
  model->compile(std::make_shared<optim::Adam>(), "sparse_categorical_crossentropy", {"accuracy"});
  train::LambdaCallback cb;
  int batches = 0, epochs = 0;
  cb.batch_end = [&](nn::Model& m, int64_t batch, const train::Logs& logs) {
    EXPECT_EQ(batch, batches % 4);
    EXPECT_TRUE(logs.count("loss") && logs.count("accuracy"));
    if (++batches == 6) m.stop_training = true;
  };
  cb.epoch_end = [&](nn::Model&, int, const train::Logs& logs) {
    ++epochs;
    EXPECT_TRUE(logs.count("val_loss") && logs.count("val_accuracy"));
  };
  train::History h = model->fit(
      data.x, data.y, {.batch_size = 25, .epochs = 10, .validation_split = 0.2, .callbacks = {&cb}});
  EXPECT_EQ(batches, 6);  // 80 training samples: 4 batches per epoch; stopped in epoch 2
  EXPECT_EQ(epochs, 2);
  EXPECT_EQ(h.history.at("loss").size(), 2u);
  EXPECT_EQ(h.history.at("val_accuracy").size(), 2u);
}

TEST(Training, PredictAndEvaluate) {
  auto model = nn::lenet({12, 12, 1}, 3, 1);
  auto data = data::make_synthetic_task({70, 12, 12, 1, 3, 0.1f, 2});
  Tensor p = model->predict(data.x, 32);
  EXPECT_EQ(p.shape(), (Shape{70, 3}));
  for (int n = 0; n < 70; ++n) EXPECT_NEAR(p[n * 3] + p[n * 3 + 1] + p[n * 3 + 2], 1.0f, 1e-5);
  // predict in batches equals one big call.
  EXPECT_LT(test::rel_error(p, model->call(data.x)), 1e-6);
  EXPECT_THROW(model->evaluate(data.x, data.y), ValueError);  // not compiled
  model->compile(std::make_shared<optim::Adam>(), "sparse_categorical_crossentropy", {"accuracy"});
  train::Logs logs = model->evaluate(data.x, data.y, 16);
  double expect_loss = ops::sparse_categorical_crossentropy(p, data.y, false)[0];
  EXPECT_NEAR(logs.at("loss"), expect_loss, 1e-4);
  EXPECT_NEAR(logs.at("accuracy"), ops::sparse_categorical_accuracy(p, data.y), 1e-9);
}

TEST(Training, LeNetLearnsSyntheticDigitsReproducibly) {
  auto task = data::make_synthetic_task({.samples = 2500, .seed = 2024});
  Tensor x_train = train::take_rows(task.x, 0, 2000), y_train = train::take_rows(task.y, 0, 2000);
  Tensor x_val = train::take_rows(task.x, 2000, 2500), y_val = train::take_rows(task.y, 2000, 2500);
  std::vector<std::vector<float>> weights[2];
  double val_acc = 0;
  for (int run = 0; run < 2; ++run) {
    auto model = nn::lenet({28, 28, 1}, 10, /*seed=*/7);
    model->compile(std::make_shared<optim::Adam>(), "sparse_categorical_crossentropy", {"accuracy"});
    auto t0 = std::chrono::steady_clock::now();
    train::History h = model->fit(
        x_train, y_train,
        {.batch_size = 32, .epochs = 5, .validation_data = std::make_pair(x_val, y_val), .seed = 11});
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    val_acc = h.history.at("val_accuracy").back();
    std::printf("run %d: loss %.4f accuracy %.4f val_loss %.4f val_accuracy %.4f (%.1f s)\n", run,
                h.history.at("loss").back(), h.history.at("accuracy").back(), h.history.at("val_loss").back(),
                val_acc, secs);
    for (nn::Weight* w : model->all_weights()) weights[run].push_back(w->value.to_vector());
  }
  EXPECT_GE(val_acc, 0.95);
  EXPECT_EQ(weights[0], weights[1]);  // bit-identical with the same seeds
}
