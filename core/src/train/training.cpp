// Keras's compile / fit / evaluate / predict on a Model.
#include <chrono>
#include <cmath>
#include <cstring>

#include "cnn/autograd.h"
#include "cnn/error.h"
#include "cnn/nn/model.h"
#include "cnn/ops.h"
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
  if (y.shape() != want)
    throw ShapeError(str_cat(who, ": y has shape ", shape_str(y.shape()), ", expected ", shape_str(want),
                             " to match the model's output ", shape_str(out)));
}

}  // namespace

struct TrainingAccess {
  static Model::Training& get(const Model& m, const char* who) {
    if (!m.training_)
      throw ValueError(std::string(who) + ": the model must be compiled first (model.compile)");
    return *m.training_;
  }
};

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
      switch (t->loss) {
        case LossKind::SparseCategorical:
          k = AccuracyKind::SparseCategorical;
          break;
        case LossKind::Categorical:
          k = AccuracyKind::Categorical;
          break;
        case LossKind::Binary:
          k = AccuracyKind::Binary;
          break;
        default:
          k = out.back() == 1 ? AccuracyKind::Binary : AccuracyKind::Categorical;
      }
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
    if (t->accuracy != AccuracyKind::None && t->accuracy != k)
      throw ValueError("compile: only one accuracy metric is supported");
    t->accuracy = k;
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

train::History Model::fit(const Tensor& x, const Tensor& y, const train::FitOptions& opt) {
  if (!x.defined() || !y.defined()) throw ValueError("fit: x and y must both be given");
  if (x.ndim() < 1 || y.ndim() < 1 || x.dim(0) != y.dim(0))
    throw ShapeError("fit: x has shape " + shape_str(x.shape()) + " and y has shape " + shape_str(y.shape()) +
                     ", expected the same number of samples (axis 0)");
  if (!(opt.validation_split >= 0.0 && opt.validation_split < 1.0))
    throw ValueError(str_cat("fit: validation_split must be in [0, 1), got ", opt.validation_split));
  Training& t = TrainingAccess::get(*this, "fit");
  validate_targets("fit", t.loss, output_shape(), y);
  if (opt.validation_data) {
    const auto& [vx, vy] = *opt.validation_data;
    if (!vx.defined() || !vy.defined() || vx.ndim() < 1 || vy.ndim() < 1 || vx.dim(0) != vy.dim(0))
      throw ShapeError("fit: validation_data x and y must hold the same number of samples");
    validate_targets("fit: validation_data", t.loss, output_shape(), vy);
  }
  Tensor tx = x, ty = y;
  train::FitOptions o = opt;
  std::unique_ptr<train::ArrayDataset> val;
  if (opt.validation_split > 0.0) {
    // Keras takes the last fraction, before any shuffling.
    const int64_t n = x.dim(0);
    const int64_t split = static_cast<int64_t>(n * (1.0 - opt.validation_split));
    if (split <= 0 || split >= n)
      throw ValueError(str_cat("fit: validation_split ", opt.validation_split, " of ", n,
                               " samples leaves an empty training or validation set"));
    tx = train::take_rows(x, 0, split);
    ty = train::take_rows(y, 0, split);
    val = std::make_unique<train::ArrayDataset>(train::take_rows(x, split, n), train::take_rows(y, split, n),
                                                opt.batch_size);
  } else if (opt.validation_data) {
    val = std::make_unique<train::ArrayDataset>(opt.validation_data->first, opt.validation_data->second,
                                                opt.batch_size);
  }
  if (val) o.validation_dataset = val.get();
  train::ArrayDataset data(tx, ty, opt.batch_size, opt.shuffle, opt.seed);
  return fit(data, o);
}

train::History Model::fit(train::Dataset& data, const train::FitOptions& opt) {
  Training& t = TrainingAccess::get(*this, "fit");
  if (opt.epochs < 0) throw ValueError(str_cat("fit: epochs must be >= 0, got ", opt.epochs));
  if (data.num_samples() == 0) throw ValueError("fit: the training data is empty");
  int64_t steps = data.num_batches();
  if (opt.steps_per_epoch > 0) steps = std::min(steps, opt.steps_per_epoch);
  stop_training = false;
  train::History history;
  Rng rng(opt.seed * 7919ull + 1);  // dropout masks
  for (train::Callback* cb : opt.callbacks)
    cb->on_train_begin(*this, {opt.epochs, steps, data.num_samples()});
  std::vector<Weight*> params = trainable_weights();
  if (params.empty()) throw ValueError("fit: the model has no trainable weights (every layer is frozen)");
  train::Logs logs;
  for (int epoch = 0; epoch < opt.epochs && !stop_training; ++epoch) {
    for (train::Callback* cb : opt.callbacks) cb->on_epoch_begin(*this, epoch);
    data.on_epoch_begin(epoch);
    Running run;
    for (int64_t b = 0; b < steps; ++b) {
      auto [xb, yb] = data.batch(b);
      for (Weight* w : params) w->value.zero_grad();
      double loss_value, acc;
      {
        Tensor out = call({xb}, true, &rng, t.fused)[0];
        Tensor loss = compute_loss(t.loss, out, yb, t.fused);
        loss.backward();
        loss_value = loss[0];
        acc = compute_accuracy(t.accuracy, out, yb, t.fused);
      }  // the batch's graph and activations are freed here
      t.optimizer->apply(params);
      run.add(loss_value, acc, xb.dim(0));
      train::Logs batch_logs = run.logs(t);
      for (train::Callback* cb : opt.callbacks) cb->on_train_batch_end(*this, b, batch_logs);
      if (stop_training) break;
    }
    logs = run.logs(t);
    if (opt.validation_dataset) {
      train::Logs v = evaluate(*opt.validation_dataset, opt.validation_steps);
      for (auto& [k, val] : v) logs["val_" + k] = val;
    }
    history.epoch.push_back(epoch);
    for (auto& [k, v] : logs) history.history[k].push_back(v);
    for (train::Callback* cb : opt.callbacks) cb->on_epoch_end(*this, epoch, logs);
  }
  for (train::Callback* cb : opt.callbacks) cb->on_train_end(*this, logs);
  return history;
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
  data.on_epoch_begin(0);
  int64_t n = data.num_batches();
  if (steps > 0) n = std::min(n, steps);
  Running run;
  for (int64_t b = 0; b < n; ++b) {
    auto [xb, yb] = data.batch(b);
    Tensor out = call({xb}, false, nullptr, t.fused)[0];
    run.add(compute_loss(t.loss, out, yb, t.fused)[0], compute_accuracy(t.accuracy, out, yb, t.fused),
            xb.dim(0));
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
    Tensor out = call(std::vector<Tensor>{train::take_rows(x, b, e)}, false)[0];
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
