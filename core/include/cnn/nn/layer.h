// Layer: Keras's unit of a model. A layer validates its input shapes
// (compute_output_shape), creates and initialises its weights (build), runs
// its ops (call) and describes itself as Keras config JSON (config).
// Layers hold parameters and call ops; they hold no gradient logic.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "cnn/rng.h"
#include "cnn/tensor.h"

namespace cnn::nn {

// One weight as Keras lists it (kernel, bias, gamma, beta, moving_mean,
// moving_variance), in Keras's order.
struct Weight {
  std::string name;
  Tensor value;
  bool trainable_kind;  // false for statistics such as BN's moving mean/variance
};

struct CallContext {
  bool training = false;
  Rng* rng = nullptr;            // for dropout; required when training
  bool skip_activation = false;  // return pre-activation values (fused loss path)
};

class Layer {
 public:
  explicit Layer(std::string name) : name_(std::move(name)) {}
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  virtual std::string class_name() const = 0;  // "Conv2D", "Dense", ...
  const std::string& name() const { return name_; }
  void set_name(std::string n) { name_ = std::move(n); }

  // Shapes carry the batch axis as -1 (Keras's None). Throws ShapeError
  // naming the layer when the inputs do not fit.
  virtual Shape compute_output_shape(const std::vector<Shape>& input_shapes) const = 0;
  // Creates the weights for these input shapes and draws their initial values.
  virtual void build(const std::vector<Shape>& input_shapes, Rng& rng);
  virtual Tensor call(const std::vector<Tensor>& inputs, const CallContext& ctx) = 0;
  // The Keras get_config() dictionary (without class_name).
  virtual nlohmann::ordered_json config() const = 0;

  // The activation applied at the end of call ("linear" when none): the
  // model uses it to fuse softmax/sigmoid with the loss.
  virtual std::string activation_name() const { return "linear"; }
  // How many inputs the layer takes: 1 for most; Add/Concatenate take >= 2.
  virtual bool accepts_input_count(size_t n) const { return n == 1; }

  bool built() const { return built_; }
  bool trainable() const { return trainable_; }
  // Keras semantics: a non-trainable layer has no trainable weights, and a
  // non-trainable BatchNormalization runs in inference mode.
  virtual void set_trainable(bool on);

  std::vector<Weight>& weights() { return weights_; }
  const std::vector<Weight>& weights() const { return weights_; }
  bool weight_trainable(const Weight& w) const { return trainable_ && w.trainable_kind; }
  int64_t count_params() const;
  int64_t count_trainable_params() const;

  // Shape without the batch axis given to the first layer of a Sequential
  // model (Keras's input_shape argument); empty when not given.
  const Shape& declared_input_shape() const { return input_shape_; }
  void set_declared_input_shape(Shape s) { input_shape_ = std::move(s); }

 protected:
  Weight& add_weight(const std::string& name, const Shape& shape, bool trainable_kind);
  // The label every error of this layer starts with: "Conv2D 'conv2d_1'".
  std::string who() const;
  void mark_built() { built_ = true; }

 private:
  std::string name_;
  bool trainable_ = true;
  bool built_ = false;
  Shape input_shape_;
  std::vector<Weight> weights_;
};

using LayerPtr = std::shared_ptr<Layer>;

// Keras's snake_case default name for a class: "Conv2D" -> "conv2d",
// "GlobalAveragePooling2D" -> "global_average_pooling2d".
std::string default_layer_name(const std::string& class_name);

}  // namespace cnn::nn
