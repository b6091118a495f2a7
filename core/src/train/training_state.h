// What compile() fixes for fit/evaluate, and the helpers they share
// (private to core/src).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cnn/error.h"
#include "cnn/nn/model.h"
#include "cnn/optim/optimizer.h"

namespace cnn::nn {

enum class LossKind { SparseCategorical, Categorical, Binary, MeanSquared };
// Auto: 'accuracy', which Keras resolves from the shapes of the output and
// the targets (binary for one output unit, else sparse or categorical).
enum class AccuracyKind { None, Auto, SparseCategorical, Categorical, Binary };

struct Model::Training {
  std::shared_ptr<optim::Optimizer> optimizer;
  std::string loss_name;
  LossKind loss;
  std::vector<std::string> metric_names;  // as given
  std::vector<std::string> metric_keys;   // log keys, e.g. "accuracy"
  AccuracyKind accuracy = AccuracyKind::None;
  // The output layer's softmax/sigmoid is folded into the loss (Keras's
  // from_logits path): the graph runs without it while training.
  bool fused = false;
};

struct TrainingAccess {
  static Model::Training& get(const Model& m, const char* who) {
    if (!m.training_)
      throw ValueError(std::string(who) + ": the model must be compiled first (model.compile)");
    return *m.training_;
  }
  static int64_t& passes_begun(Model& m) { return m.passes_begun_; }
};

Tensor compute_loss(LossKind kind, const Tensor& out, const Tensor& y, bool from_logits);
double compute_accuracy(AccuracyKind kind, const Tensor& out, const Tensor& y, bool logits);
// Checks targets against the loss and the model's output before any step
// runs, so a bad label fails at once, naming its position in y.
void validate_targets(const char* who, LossKind loss, const Shape& out, const Tensor& y);

// Sample-weighted running means, as Keras's Mean metrics accumulate.
struct Running {
  double loss = 0.0, acc = 0.0;
  int64_t n = 0;
  void add(double batch_loss, double batch_acc, int64_t count) {
    loss += batch_loss * count;
    acc += batch_acc * count;
    n += count;
  }
  train::Logs logs(const Model::Training& t, const std::string& prefix = "") const {
    train::Logs l;
    l[prefix + "loss"] = n ? loss / n : 0.0;
    for (const std::string& k : t.metric_keys) l[prefix + k] = n ? acc / n : 0.0;
    return l;
  }
};

}  // namespace cnn::nn
