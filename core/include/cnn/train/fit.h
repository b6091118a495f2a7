// What Keras's fit() takes and gives: datasets, options, callbacks, History.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cnn/tensor.h"

namespace cnn::nn {
class Model;
}

namespace cnn::train {

// Metric name -> value, e.g. {"loss": 0.31, "accuracy": 0.9}.
using Logs = std::map<std::string, double>;

// Keras's History: every epoch's logs, key by key.
struct History {
  std::map<std::string, std::vector<double>> history;
  std::vector<int> epoch;
};

// A source of (features, targets) batches: arrays in memory now, directory
// flows later. Keras iterators are endless; one epoch is num_batches() calls.
class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t num_samples() const = 0;
  virtual int64_t num_batches() const = 0;  // ceil(num_samples / batch_size)
  // The largest batch it gives (memory estimates); by default what the counts imply.
  virtual int64_t batch_size() const {
    return num_batches() > 0 ? (num_samples() + num_batches() - 1) / num_batches() : 0;
  }
  // Called before the counts are read (fit, evaluate): a directory flow
  // decodes its images here and drops the unreadable ones, so the counts hold.
  virtual void ready() {}
  // Called before each epoch (reshuffles when the dataset shuffles).
  virtual void on_epoch_begin(int epoch) = 0;
  virtual std::pair<Tensor, Tensor> batch(int64_t index) = 0;
};

// (x, y) arrays split into batches along axis 0, reshuffled each epoch from
// `seed` when shuffle is on (the same seed gives the same order).
class ArrayDataset : public Dataset {
 public:
  ArrayDataset(Tensor x, Tensor y, int64_t batch_size, bool shuffle = false, uint64_t seed = 0);
  int64_t num_samples() const override { return x_.dim(0); }
  int64_t num_batches() const override;
  int64_t batch_size() const override { return std::min(batch_size_, num_samples()); }
  void on_epoch_begin(int epoch) override;
  std::pair<Tensor, Tensor> batch(int64_t index) override;

 private:
  Tensor x_, y_;
  int64_t batch_size_;
  bool shuffle_;
  uint64_t seed_;
  std::vector<int64_t> order_;
};

// Rows [begin, end) of a tensor along axis 0, gathered in `order` when given.
Tensor take_rows(const Tensor& t, int64_t begin, int64_t end, const std::vector<int64_t>* order = nullptr);

struct FitParams {
  int epochs;
  int64_t steps;    // batches per epoch
  int64_t samples;  // training samples per epoch
};

// Keras-style callbacks. Set model.stop_training to stop after the current
// batch: the model is left consistent (the last update is complete).
class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(nn::Model&, const FitParams&) {}
  virtual void on_epoch_begin(nn::Model&, int /*epoch*/) {}
  // logs: running means over the epoch so far ("loss", metrics).
  virtual void on_train_batch_end(nn::Model&, int64_t /*batch*/, const Logs&) {}
  // logs: the epoch's means, with "val_" entries when validating.
  virtual void on_epoch_end(nn::Model&, int /*epoch*/, const Logs&) {}
  virtual void on_train_end(nn::Model&, const Logs&) {}
};

// A callback made of optional functions, for UIs and tests.
class LambdaCallback : public Callback {
 public:
  std::function<void(nn::Model&, int64_t, const Logs&)> batch_end;
  std::function<void(nn::Model&, int, const Logs&)> epoch_end;
  void on_train_batch_end(nn::Model& m, int64_t b, const Logs& l) override {
    if (batch_end) batch_end(m, b, l);
  }
  void on_epoch_end(nn::Model& m, int e, const Logs& l) override {
    if (epoch_end) epoch_end(m, e, l);
  }
};

struct FitOptions {
  int64_t batch_size = 32;
  int epochs = 1;
  std::optional<std::pair<Tensor, Tensor>> validation_data;
  Dataset* validation_dataset = nullptr;  // instead of validation_data
  // Keras: the last fraction of (x, y), taken before shuffling.
  double validation_split = 0.0;
  bool shuffle = true;
  uint64_t seed = 0;              // shuffling and dropout
  int64_t steps_per_epoch = -1;   // -1: the whole dataset
  int64_t validation_steps = -1;  // -1: the whole validation dataset
  std::vector<Callback*> callbacks;
};

}  // namespace cnn::train
