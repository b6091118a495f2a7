// Keras's compile / evaluate / predict on a Model (fit is in fit_loop.cpp).
#include <chrono>
#include <cmath>
#include <cstring>

#include "cnn/autograd.h"
#include "cnn/error.h"
#include "cnn/nn/model.h"
#include "cnn/ops.h"
#include "ops/shapes.h"
#include "train/training_state.h"

namespace cnn::nn {

namespace {

LossKind parse_loss(const std::string& name) {
  if (name == "sparse_categorical_crossentropy") return LossKind::SparseCategorical;
  if (name == "categorical_crossentropy") return LossKind::Categorical;
  if (name == "binary_crossentropy") return LossKind::Binary;
  if (name == "mean_squared_error" || name == "mse") return LossKind::MeanSquared;
  throw ValueError("compile: loss '" + name +
                   "' is not supported, expected one of sparse_categorical_crossentropy, "
                   "categorical_crossentropy, binary_crossentropy, mean_squared_error");
}

}  // namespace

Tensor compute_loss(LossKind kind, const Tensor& out, const Tensor& y, bool from_logits) {
  switch (kind) {
    case LossKind::SparseCategorical:
      return ops::sparse_categorical_crossentropy(out, y, from_logits);
    case LossKind::Categorical:
      return ops::categorical_crossentropy(out, y, from_logits);
    case LossKind::Binary:
      return ops::binary_crossentropy(out, y, from_logits);
    default:
      return ops::mean_squared_error(out, y);
  }
}

double compute_accuracy(AccuracyKind kind, const Tensor& out, const Tensor& y, bool logits) {
  if (kind == AccuracyKind::Auto) {  // Keras's is_binary_or_sparse_categorical
    if (out.shape().back() == 1)
      kind = AccuracyKind::Binary;
    else if (y.ndim() < out.ndim() || y.shape().back() == 1)
      kind = AccuracyKind::SparseCategorical;
    else
      kind = AccuracyKind::Categorical;
  }
  switch (kind) {
    case AccuracyKind::SparseCategorical:
      return ops::sparse_categorical_accuracy(out, y);
    case AccuracyKind::Categorical:
      return ops::categorical_accuracy(out, y);
    // sigmoid(z) > 0.5 exactly when z > 0.
    case AccuracyKind::Binary:
      return ops::binary_accuracy(out, y, logits ? 0.0f : 0.5f);
    default:
      return 0.0;
  }
}

// Checks targets against the loss and the model's output before any step
// runs, so a bad label fails at once, naming its position in y.
void validate_targets(const char* who, LossKind loss, const Shape& out, const Tensor& y) {
  const int64_t n = y.dim(0);
  if (loss == LossKind::SparseCategorical) {
    const int64_t k = out.back();
    if (!(y.ndim() == 1 || (y.ndim() == 2 && y.dim(1) == 1)))
      throw ShapeError(str_cat(who, ": y has shape ", shape_str(y.shape()),
                               ", expected class indices of shape (", n,
                               ",) for sparse_categorical_crossentropy"));
    for (int64_t i = 0; i < n; ++i) {
      const float l = y[i];
      if (!(l >= 0.0f && l < static_cast<float>(k)) || l != std::floor(l))
        throw ValueError(str_cat(who, ": label ", l, " at index ", i,
                                 " of y is not a class index, expected an integer in [0, ", k,
                                 ") for the model's ", k, " outputs"));
    }
    return;
  }
  Shape want = out;
  want[0] = n;
  if (!ops::same_up_to_trailing_one(y.shape(), want))
    throw ShapeError(str_cat(who, ": y has shape ", shape_str(y.shape()), ", expected ", shape_str(want),
                             " to match the model's output ", shape_str(out)));
}

void Model::compile(std::shared_ptr<optim::Optimizer> optimizer, const std::string& loss,
                    const std::vector<std::string>& metrics) {
  if (!optimizer) throw ValueError("compile: an optimizer is required");
  if (nodes_.empty()) throw ValueError("compile: the model has no layers yet");
  auto t = std::make_unique<Training>();
  t->optimizer = std::move(optimizer);
  t->loss_name = loss;
  t->loss = parse_loss(loss);
  if (output_nodes_.size() != 1)
    throw ValueError("compile: models with several outputs are not supported for training");
  const Shape out = output_shape();
  for (const std::string& m : metrics) {
    AccuracyKind k;
    if (m == "accuracy" || m == "acc") {
      k = AccuracyKind::Auto;  // from the shapes, as Keras 2 and 3 do, not from the loss
    } else if (m == "sparse_categorical_accuracy") {
      k = AccuracyKind::SparseCategorical;
    } else if (m == "categorical_accuracy") {
      k = AccuracyKind::Categorical;
    } else if (m == "binary_accuracy") {
      k = AccuracyKind::Binary;
    } else {
      throw ValueError("compile: metric '" + m +
                       "' is not supported, expected accuracy, sparse_categorical_accuracy, "
                       "categorical_accuracy or binary_accuracy");
    }
    // 'accuracy' beside a named accuracy is that one (Keras would log both,
    // and they agree wherever the name fits the targets).
    if (t->accuracy == AccuracyKind::Auto || k == AccuracyKind::Auto) {
      if (t->accuracy == AccuracyKind::None || t->accuracy == AccuracyKind::Auto) t->accuracy = k;
    } else if (t->accuracy != AccuracyKind::None && t->accuracy != k) {
      throw ValueError("compile: only one accuracy metric is supported");
    } else {
      t->accuracy = k;
    }
    t->metric_names.push_back(m);
    t->metric_keys.push_back(m);
  }
  const std::string act = nodes_[output_nodes_[0]].layer->activation_name();
  t->fused =
      (act == "softmax" && (t->loss == LossKind::SparseCategorical || t->loss == LossKind::Categorical) &&
       out.size() == 2) ||
      (act == "sigmoid" && t->loss == LossKind::Binary);
  training_ = std::move(t);
}

bool Model::compiled() const { return training_ != nullptr; }
optim::Optimizer& Model::optimizer() const { return *TrainingAccess::get(*this, "optimizer").optimizer; }
const std::string& Model::loss_name() const { return TrainingAccess::get(*this, "loss").loss_name; }
const std::vector<std::string>& Model::metric_names() const {
  return TrainingAccess::get(*this, "metrics").metric_names;
}

train::Logs Model::evaluate(const Tensor& x, const Tensor& y, int64_t batch_size) {
  Training& t = TrainingAccess::get(*this, "evaluate");
  train::ArrayDataset data(x, y, batch_size);
  validate_targets("evaluate", t.loss, output_shape(), y);
  return evaluate(data);
}

train::Logs Model::evaluate(train::Dataset& data, int64_t steps) {
  Training& t = TrainingAccess::get(*this, "evaluate");
  NoGradGuard no_grad;
  data.ready();
  data.on_epoch_begin(0);
  int64_t n = data.num_batches();
  if (steps > 0) n = std::min(n, steps);
  Running run;
  for (int64_t b = 0; b < n; ++b) {
    auto [host_x, host_y] = data.batch(b);
    const Tensor xb = host_x.to(device_), yb = host_y.to(device_);
    Tensor out = call({xb}, false, nullptr, t.fused)[0];
    run.add(compute_loss(t.loss, out, yb, t.fused).to_vector()[0],
            compute_accuracy(t.accuracy, out, yb, t.fused), xb.dim(0));
  }
  return run.logs(t);
}

Tensor Model::predict(const Tensor& x, int64_t batch_size) {
  if (batch_size < 1) throw ValueError(str_cat("predict: batch_size must be >= 1, got ", batch_size));
  if (!x.defined() || x.ndim() < 1) throw ShapeError("predict: x must have a batch axis");
  NoGradGuard no_grad;
  const int64_t n = x.dim(0);
  if (n == 0) throw ShapeError("predict: x " + shape_str(x.shape()) + " holds no samples");
  Tensor result;
  for (int64_t b = 0; b < n; b += batch_size) {
    const int64_t e = std::min(b + batch_size, n);
    Tensor out = call(std::vector<Tensor>{train::take_rows(x, b, e).to(device_)}, false)[0].to(Device::CPU);
    if (!result.defined()) {
      Shape s = out.shape();
      s[0] = n;
      result = Tensor(s);
    }
    const int64_t row = out.numel() / (e - b);
    std::memcpy(result.data() + b * row, out.data(), static_cast<size_t>(out.numel()) * sizeof(float));
  }
  return result;
}

}  // namespace cnn::nn
