// What compile() fixes for fit/evaluate (private to core/src).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cnn/nn/model.h"
#include "cnn/optim/optimizer.h"

namespace cnn::nn {

enum class LossKind { SparseCategorical, Categorical, Binary, MeanSquared };
enum class AccuracyKind { None, SparseCategorical, Categorical, Binary };

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

}  // namespace cnn::nn
