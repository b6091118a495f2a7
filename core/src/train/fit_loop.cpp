#include "cnn/train/fit_loop.h"

#include <algorithm>
#include <chrono>

#include "cnn/error.h"
#include "cnn/train/memory_estimate.h"
#include "train/training_state.h"

namespace cnn::train {

using nn::TrainingAccess;

FitLoop::FitLoop(nn::Model& model, const Tensor& x, const Tensor& y, const FitOptions& opt)
    : model_(model), rng_(opt.seed * 7919ull + 1) {
  if (!x.defined() || !y.defined()) throw ValueError("fit: x and y must both be given");
  if (x.ndim() < 1 || y.ndim() < 1 || x.dim(0) != y.dim(0))
    throw ShapeError("fit: x has shape " + shape_str(x.shape()) + " and y has shape " + shape_str(y.shape()) +
                     ", expected the same number of samples (axis 0)");
  if (!(opt.validation_split >= 0.0 && opt.validation_split < 1.0))
    throw ValueError(str_cat("fit: validation_split must be in [0, 1), got ", opt.validation_split));
  nn::Model::Training& t = TrainingAccess::get(model, "fit");
  nn::validate_targets("fit", t.loss, model.output_shape(), y);
  FitOptions o = opt;
  Tensor tx = x, ty = y;
  // validation_data, when given, overrides validation_split, as in Keras.
  if (opt.validation_data) {
    const auto& [vx, vy] = *opt.validation_data;
    if (!vx.defined() || !vy.defined() || vx.ndim() < 1 || vy.ndim() < 1 || vx.dim(0) != vy.dim(0))
      throw ShapeError("fit: validation_data x and y must hold the same number of samples");
    nn::validate_targets("fit: validation_data", t.loss, model.output_shape(), vy);
    owned_val_ = std::make_unique<ArrayDataset>(vx, vy, opt.batch_size);
  } else if (opt.validation_split > 0.0) {
    // Keras takes the last fraction, before any shuffling.
    const int64_t n = x.dim(0);
    const int64_t split = static_cast<int64_t>(n * (1.0 - opt.validation_split));
    if (split <= 0 || split >= n)
      throw ValueError(str_cat("fit: validation_split ", opt.validation_split, " of ", n,
                               " samples leaves an empty training or validation set"));
    tx = take_rows(x, 0, split);
    ty = take_rows(y, 0, split);
    owned_val_ =
        std::make_unique<ArrayDataset>(take_rows(x, split, n), take_rows(y, split, n), opt.batch_size);
  }
  if (owned_val_) o.validation_dataset = owned_val_.get();
  owned_train_ = std::make_unique<ArrayDataset>(tx, ty, opt.batch_size, opt.shuffle, opt.seed);
  init(*owned_train_, o);
}

FitLoop::FitLoop(nn::Model& model, Dataset& data, const FitOptions& opt)
    : model_(model), rng_(opt.seed * 7919ull + 1) {
  init(data, opt);
}

FitLoop::~FitLoop() = default;

void FitLoop::init(Dataset& data, const FitOptions& opt) {
  TrainingAccess::get(model_, "fit");
  if (opt.epochs < 0) throw ValueError(str_cat("fit: epochs must be >= 0, got ", opt.epochs));
  if (&data != owned_train_.get() && (opt.validation_split > 0.0 || opt.validation_data))
    throw ValueError(
        "fit: validation_split and validation_data are for x and y arrays; with a dataset or a "
        "flow, pass the validation flow (subset 'validation') instead: validation_dataset, or "
        "validationData in JavaScript");
  params_ = model_.trainable_weights();
  if (params_.empty()) throw ValueError("fit: the model has no trainable weights (every layer is frozen)");
  // Refuse now, with the figures, what would run out of memory mid-epoch.
  // (The budget is the host's: a model on a GPU trains in the GPU's memory.)
  if (model_.device() == Device::CPU)
    check_training_fits(model_, data.batch_size(), model_.optimizer().slots_per_weight());
  // Only then may a flow decode its whole folder (minutes for a big one).
  data.ready();
  if (opt.validation_dataset) opt.validation_dataset->ready();
  if (data.num_samples() == 0) throw ValueError("fit: the training data is empty");
  data_ = &data;
  val_ = opt.validation_dataset;
  first_pass_ = TrainingAccess::passes_begun(model_);
  if (first_pass_ > 0)
    rng_ = Rng((opt.seed * 7919ull + 1) ^ (static_cast<uint64_t>(first_pass_) * 0x9E3779B97F4A7C15ull));
  opt_ = opt;
  steps_ = data.num_batches();
  if (opt.steps_per_epoch > 0) steps_ = std::min(steps_, opt.steps_per_epoch);
  model_.stop_training = false;
  done_ = opt.epochs == 0;
  for (Callback* cb : opt_.callbacks) cb->on_train_begin(model_, {opt.epochs, steps_, data.num_samples()});
  if (done_)
    for (Callback* cb : opt_.callbacks) cb->on_train_end(model_, epoch_logs_);
}

bool FitLoop::step() {
  if (done_) return false;
  nn::Model::Training& t = TrainingAccess::get(model_, "fit");
  epoch_ended_ = false;
  if (!epoch_open_) {
    for (Callback* cb : opt_.callbacks) cb->on_epoch_begin(model_, epoch_);
    data_->on_epoch_begin(static_cast<int>(first_pass_ + epoch_));
    ++TrainingAccess::passes_begun(model_);
    batch_ = 0;
    samples_in_epoch_ = 0;
    loss_sum_ = acc_sum_ = 0;
    epoch_open_ = true;
  }
  auto [host_x, host_y] = data_->batch(batch_);
  // The batch goes to the model's device; only the loss and accuracy come back.
  const Tensor xb = host_x.to(model_.device()), yb = host_y.to(model_.device());
  for (nn::Weight* w : params_) w->value.zero_grad();
  double loss_value, acc;
  {
    Tensor out = model_.call({xb}, true, &rng_, t.fused)[0];
    Tensor loss = nn::compute_loss(t.loss, out, yb, t.fused);
    loss.backward();
    loss_value = loss.to_vector()[0];
    acc = nn::compute_accuracy(t.accuracy, out, yb, t.fused);
  }  // the batch's graph and activations are freed here
  t.optimizer->apply(params_);
  const int64_t n = xb.dim(0);
  loss_sum_ += loss_value * n;
  acc_sum_ += acc * n;
  samples_in_epoch_ += n;
  batch_logs_.clear();
  batch_logs_["loss"] = loss_sum_ / samples_in_epoch_;
  for (const std::string& k : t.metric_keys) batch_logs_[k] = acc_sum_ / samples_in_epoch_;
  for (Callback* cb : opt_.callbacks) cb->on_train_batch_end(model_, batch_, batch_logs_);
  ++batch_;
  if (batch_ >= steps_ || model_.stop_training) close_epoch();
  return true;
}

void FitLoop::stop() {
  model_.stop_training = true;
  if (done_) return;
  if (epoch_open_) {
    close_epoch();
  } else {
    done_ = true;
    for (Callback* cb : opt_.callbacks) cb->on_train_end(model_, epoch_logs_);
  }
}

void FitLoop::close_epoch() {
  epoch_logs_ = batch_logs_;
  validation_seconds_ = 0;
  if (val_) {
    const auto t0 = std::chrono::steady_clock::now();
    Logs v = model_.evaluate(*val_, opt_.validation_steps);
    validation_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (auto& [k, value] : v) epoch_logs_["val_" + k] = value;
  }
  history_.epoch.push_back(epoch_);
  for (auto& [k, v] : epoch_logs_) history_.history[k].push_back(v);
  for (Callback* cb : opt_.callbacks) cb->on_epoch_end(model_, epoch_, epoch_logs_);
  epoch_open_ = false;
  epoch_ended_ = true;
  if (model_.stop_training || epoch_ + 1 >= opt_.epochs) {
    done_ = true;
    for (Callback* cb : opt_.callbacks) cb->on_train_end(model_, epoch_logs_);
  } else {
    ++epoch_;
  }
}

}  // namespace cnn::train

namespace cnn::nn {

train::History Model::fit(const Tensor& x, const Tensor& y, const train::FitOptions& opt) {
  train::FitLoop loop(*this, x, y, opt);
  while (loop.step()) {
  }
  return loop.history();
}

train::History Model::fit(train::Dataset& data, const train::FitOptions& opt) {
  train::FitLoop loop(*this, data, opt);
  while (loop.step()) {
  }
  return loop.history();
}

}  // namespace cnn::nn
