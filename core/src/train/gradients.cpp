// Weights in and out, and gradients without an update (GradientTape-style).
#include "backend/backend.h"
#include "cnn/autograd.h"
#include "cnn/error.h"
#include "cnn/ops.h"
#include "train/training_state.h"

namespace cnn::nn {

std::vector<Tensor> Model::get_weights() const {
  std::vector<Tensor> out;
  for (const Node& n : nodes_)
    for (const Weight& w : n.layer->weights()) out.push_back(w.value.to(Device::CPU).clone());
  return out;
}

void Model::to(Device device) {
  if (device == device_) return;
  backend::backend(device);  // throws, naming why, when it is not available
  // Each weight keeps its TensorImpl (layers, optimizer slots and views hold
  // it) and gets its values on the new device.
  for (Weight* w : all_weights()) {
    TensorImpl& impl = *w->value.impl();
    impl.storage = w->value.to(device).impl()->storage;
    impl.offset = 0;
    impl.grad.reset();
  }
  if (training_) training_->optimizer->move_state_to(device);
  device_ = device;
}

void Model::set_weights(const std::vector<Tensor>& weights) {
  std::vector<Weight*> all = const_cast<Model*>(this)->all_weights();
  if (weights.size() != all.size())
    throw ValueError(
        str_cat("set_weights: model '", name_, "' has ", all.size(), " weights, got ", weights.size()));
  // Check every shape before changing anything, so a bad list changes nothing.
  size_t k = 0;
  for (const Node& n : nodes_)
    for (const Weight& w : n.layer->weights()) {
      if (weights[k].shape() != w.value.shape())
        throw ShapeError("set_weights: weight '" + n.layer->name() + "/" + w.name + "' has shape " +
                         shape_str(w.value.shape()) + ", got " + shape_str(weights[k].shape()));
      ++k;
    }
  for (size_t i = 0; i < all.size(); ++i) all[i]->value.copy_from(weights[i]);
}

namespace {

// Leaves the model's gradient buffers empty and returns copies of them.
std::vector<Tensor> take_weight_grads(Model& m) {
  std::vector<Tensor> grads;
  for (Weight* w : m.all_weights()) {
    Tensor g(w->value.shape());
    if (w->value.has_grad()) {
      g.copy_from(w->value.grad());  // from the model's device
      w->value.zero_grad();
    }
    grads.push_back(g);
  }
  return grads;
}

}  // namespace

Model::Gradients Model::vjp(const Tensor& x, const Tensor& output_grad, bool training) {
  for (Weight* w : trainable_weights()) w->value.zero_grad();
  Tensor xin = x.to(device_).clone();
  xin.set_requires_grad(true);
  Rng rng(seed_);
  Gradients g;
  g.output = call({xin}, training, &rng)[0];
  if (g.output.shape() != output_grad.shape())
    throw ShapeError("vjp: output_grad has shape " + shape_str(output_grad.shape()) + ", expected " +
                     shape_str(g.output.shape()) + " like the model's output");
  ops::sum_product(g.output, output_grad.to(device_)).backward();
  g.input_grad = xin.grad().to(Device::CPU).clone();
  g.weight_grads = take_weight_grads(*this);
  g.output.detach_();
  g.output = g.output.to(Device::CPU);
  return g;
}

Model::Gradients Model::loss_gradients(const Tensor& x, const Tensor& y, bool training) {
  Training& t = TrainingAccess::get(*this, "loss_gradients");
  validate_targets("loss_gradients", t.loss, output_shape(), y);
  for (Weight* w : trainable_weights()) w->value.zero_grad();
  Tensor xin = x.to(device_).clone();
  xin.set_requires_grad(true);
  Rng rng(seed_);
  Tensor out = call({xin}, training, &rng, t.fused)[0];
  Tensor loss = compute_loss(t.loss, out, y.to(device_), t.fused);
  loss.backward();
  Gradients g;
  {
    NoGradGuard ng;
    if (t.fused) out = ops::activation(out, nodes_[output_nodes_[0]].layer->activation_name());
  }
  g.output = out.to(Device::CPU);
  g.output.detach_();
  g.loss = loss.to_vector()[0];
  g.input_grad = xin.grad().to(Device::CPU).clone();
  g.weight_grads = take_weight_grads(*this);
  return g;
}

}  // namespace cnn::nn
