// Optimizers with Keras's defaults and update rules (tf.keras >= 2.11).
// Each keeps its slots (momentum, moments) per weight and skips weights that
// are not trainable: it only ever sees Model::trainable_weights().
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "cnn/nn/layer.h"

namespace cnn::optim {

class Optimizer {
 public:
  explicit Optimizer(float learning_rate);
  virtual ~Optimizer() = default;
  virtual std::string class_name() const = 0;  // "Adam", "SGD"
  // Applies one update from each weight's accumulated gradient.
  void apply(const std::vector<nn::Weight*>& weights);
  int64_t iterations() const { return iterations_; }
  float learning_rate() const { return lr_; }
  void set_learning_rate(float lr);
  virtual nlohmann::ordered_json config() const = 0;  // Keras get_config()
  void reset();                                       // forget slots and iteration count
  void move_state_to(Device device);                  // the slots follow a model moved by Model::to
  // Floats of state kept per trainable weight (memory estimates).
  virtual int slots_per_weight() const = 0;

 protected:
  // One weight: w -= f(its gradient), with `slots` this optimizer's state for
  // it (tensors on w's device, made on the first update).
  virtual void update(Tensor& w, std::vector<Tensor>& slots) = 0;
  float lr_;
  int64_t iterations_ = 0;

 private:
  // Keyed by the weight's address, and checked against the weight itself: a
  // weight of another model can be given the address of a freed one, and
  // must not inherit its (possibly smaller) slots.
  struct Slots {
    std::weak_ptr<TensorImpl> owner;
    std::vector<Tensor> state;
  };
  std::map<const TensorImpl*, Slots> slots_;
};

// SGD(learning_rate=0.01, momentum=0.0, nesterov=False):
//   m = momentum * m - lr * g;  w += m  (nesterov: w += momentum * m - lr * g)
class SGD : public Optimizer {
 public:
  explicit SGD(float learning_rate = 0.01f, float momentum = 0.0f, bool nesterov = false);
  std::string class_name() const override { return "SGD"; }
  nlohmann::ordered_json config() const override;
  int slots_per_weight() const override { return momentum_ != 0.0f ? 1 : 0; }

 protected:
  void update(Tensor& w, std::vector<Tensor>& slots) override;

 private:
  float momentum_;
  bool nesterov_;
};

// Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7), Keras's form:
//   m += (g - m)(1 - b1);  v += (g^2 - v)(1 - b2)
//   w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)
class Adam : public Optimizer {
 public:
  explicit Adam(float learning_rate = 0.001f, float beta_1 = 0.9f, float beta_2 = 0.999f,
                float epsilon = 1e-7f);
  std::string class_name() const override { return "Adam"; }
  nlohmann::ordered_json config() const override;
  int slots_per_weight() const override { return 2; }

 protected:
  void update(Tensor& w, std::vector<Tensor>& slots) override;

 private:
  float beta_1_, beta_2_, epsilon_;
};

// An optimizer from Keras's serialised form ({"class_name": "Adam", "config":
// {...}}) or a plain name ("adam", "sgd"); missing settings take Keras's defaults.
std::shared_ptr<Optimizer> optimizer_from_config(const nlohmann::json& config);

}  // namespace cnn::optim
