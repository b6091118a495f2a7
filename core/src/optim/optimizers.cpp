#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>

#include "backend/backend.h"
#include "cnn/error.h"
#include "cnn/optim/optimizer.h"
#include "io/python_json.h"

namespace cnn::optim {

Optimizer::Optimizer(float learning_rate) : lr_(learning_rate) { set_learning_rate(learning_rate); }

void Optimizer::set_learning_rate(float lr) {
  // 0 is allowed, as in Keras (a step that changes nothing, e.g. to check a pipeline).
  if (!(lr >= 0.0f) || !std::isfinite(lr))
    throw ValueError(str_cat("optimizer: learning_rate must be a number >= 0, got ", lr));
  lr_ = lr;
}

void Optimizer::reset() {
  slots_.clear();
  iterations_ = 0;
}

void Optimizer::move_state_to(Device device) {
  for (auto& [weight, slots] : slots_)
    for (Tensor& t : slots.state) t = t.to(device);
}

void Optimizer::apply(const std::vector<nn::Weight*>& weights) {
  // Keras's step counter starts at 1 for the first update (bias correction).
  ++iterations_;
  for (nn::Weight* w : weights) {
    Tensor& t = w->value;
    if (!t.has_grad()) continue;  // not reached by the loss this step
    Slots& s = slots_[t.impl()];
    if (s.owner.lock() != t.impl_ptr()) {  // first update, or a new weight where a freed one was
      s.owner = t.impl_ptr();
      s.state.clear();
    }
    update(t, s.state);
  }
  // Forget the weights that are gone (a model dropped while this optimizer lives on).
  for (auto it = slots_.begin(); it != slots_.end();)
    it = it->second.owner.expired() ? slots_.erase(it) : std::next(it);
}

SGD::SGD(float learning_rate, float momentum, bool nesterov)
    : Optimizer(learning_rate), momentum_(momentum), nesterov_(nesterov) {
  if (!(momentum >= 0.0f && momentum <= 1.0f))
    throw ValueError(str_cat("SGD: momentum must be in [0, 1], got ", momentum));
}

void SGD::update(Tensor& w, std::vector<Tensor>& slots) {
  const backend::Backend& be = backend::backend(w.device());
  const int64_t n = w.numel();
  if (momentum_ == 0.0f) {
    be.sgd_step(w.device_data(), w.device_grad(), n, lr_);
    return;
  }
  if (slots.empty()) slots.push_back(Tensor::zeros(w.shape(), w.device()));
  be.sgd_momentum_step(w.device_data(), w.device_grad(), slots[0].device_data(), n, lr_, momentum_,
                       nesterov_);
}

nlohmann::ordered_json SGD::config() const {
  return {{"name", "SGD"},
          {"learning_rate", float_json(lr_)},
          {"momentum", float_json(momentum_)},
          {"nesterov", nesterov_}};
}

Adam::Adam(float learning_rate, float beta_1, float beta_2, float epsilon)
    : Optimizer(learning_rate), beta_1_(beta_1), beta_2_(beta_2), epsilon_(epsilon) {
  if (!(beta_1 >= 0.0f && beta_1 < 1.0f) || !(beta_2 >= 0.0f && beta_2 < 1.0f))
    throw ValueError(str_cat("Adam: beta_1 and beta_2 must be in [0, 1), got ", beta_1, " and ", beta_2));
  if (!(epsilon > 0.0f)) throw ValueError(str_cat("Adam: epsilon must be > 0, got ", epsilon));
}

void Adam::update(Tensor& w, std::vector<Tensor>& slots) {
  if (slots.empty()) {
    slots.push_back(Tensor::zeros(w.shape(), w.device()));
    slots.push_back(Tensor::zeros(w.shape(), w.device()));
  }
  const double t = static_cast<double>(iterations_);
  const float alpha =
      static_cast<float>(lr_ * std::sqrt(1.0 - std::pow(beta_2_, t)) / (1.0 - std::pow(beta_1_, t)));
  backend::backend(w.device())
      .adam_step(w.device_data(), w.device_grad(), slots[0].device_data(), slots[1].device_data(), w.numel(),
                 alpha, 1.0f - beta_1_, 1.0f - beta_2_, epsilon_);
}

nlohmann::ordered_json Adam::config() const {
  return {{"name", "Adam"},
          {"learning_rate", float_json(lr_)},
          {"beta_1", float_json(beta_1_)},
          {"beta_2", float_json(beta_2_)},
          {"epsilon", float_json(epsilon_)},
          {"amsgrad", false}};
}

std::shared_ptr<Optimizer> optimizer_from_config(const nlohmann::json& j) {
  std::string cls;
  nlohmann::json cfg = nlohmann::json::object();
  if (j.is_string()) {
    cls = j.get<std::string>();
  } else if (j.is_object() && j.contains("class_name") && j["class_name"].is_string()) {
    cls = j["class_name"].get<std::string>();
    if (j.contains("config") && j["config"].is_object()) cfg = j["config"];
  } else {
    throw ValueError("optimizer: expected a name or {\"class_name\": ..., \"config\": {...}}, got " +
                     j.dump());
  }
  // tf.keras >= 2.11 files name the new optimizers "Custom>Adam".
  if (cls.rfind("Custom>", 0) == 0) cls = cls.substr(7);
  std::string lower;
  for (char c : cls) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto num = [&](const char* key, float def) {
    if (!cfg.contains(key) || cfg[key].is_null()) return def;
    if (!cfg[key].is_number()) throw ValueError(std::string("optimizer: '") + key + "' must be a number");
    return cfg[key].get<float>();
  };
  if (lower != "adam" && lower != "sgd")
    throw ValueError("optimizer '" + cls + "' is not supported, expected Adam or SGD");
  // Settings that change the update and that this engine does not implement:
  // refused unless at Keras's defaults, so a Keras file never silently
  // trains differently. Keys it does not know are refused too.
  const std::vector<std::string> known =
      lower == "sgd" ? std::vector<std::string>{"learning_rate", "lr", "momentum", "nesterov"}
                     : std::vector<std::string>{"learning_rate", "lr", "beta_1", "beta_2", "epsilon"};
  for (const auto& [key, value] : cfg.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    const bool at_default = value.is_null() || (value.is_boolean() && !value.get<bool>()) ||
                            (value.is_number() && value.get<double>() == 0.0 && key != "ema_momentum") ||
                            key == "name" || key == "ema_momentum" || key == "ema_overwrite_frequency" ||
                            key == "jit_compile" || key == "is_legacy_optimizer" ||
                            key == "loss_scale_factor" || key == "gradient_accumulation_steps";
    if (!at_default)
      throw ValueError("optimizer " + cls + ": '" + key + "' = " + value.dump() +
                       " is not supported (this engine implements " + cls +
                       " without it); remove it or set it to its default");
  }
  const float lr_default = lower == "sgd" ? 0.01f : 0.001f;
  const float lr = num("learning_rate", num("lr", lr_default));
  if (lower == "adam")
    return std::make_shared<Adam>(lr, num("beta_1", 0.9f), num("beta_2", 0.999f), num("epsilon", 1e-7f));
  if (lower == "sgd") {
    bool nesterov = cfg.contains("nesterov") && cfg["nesterov"].is_boolean() && cfg["nesterov"].get<bool>();
    return std::make_shared<SGD>(lr, num("momentum", 0.0f), nesterov);
  }
  throw ValueError("optimizer '" + cls + "' is not supported, expected Adam or SGD");
}

}  // namespace cnn::optim
