// Models: a functional Model is a DAG of layers with named nodes (Keras's
// Functional); Sequential is the chain special case. Both train with Keras's
// compile / fit / evaluate / predict (see cnn/train/training.h).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cnn/nn/layer.h"
#include "cnn/train/fit.h"

namespace cnn::optim {
class Optimizer;
}

namespace cnn::nn {

// ---- Functional API ---------------------------------------------------------
struct GraphNode;

// A symbolic tensor: the output of a layer applied to other symbolic tensors.
struct KerasTensor {
  std::shared_ptr<GraphNode> node;
  const Shape& shape() const;  // with the batch axis as -1
};

struct GraphNode {
  LayerPtr layer;
  std::vector<KerasTensor> inputs;
  Shape shape;
};

// keras.Input(shape): shape without the batch axis.
KerasTensor Input(const Shape& shape, const std::string& name = "");
// layer(inputs): checks the shapes fit now, so errors point at this call.
KerasTensor apply_layer(const LayerPtr& layer, const std::vector<KerasTensor>& inputs);
inline KerasTensor apply_layer(const LayerPtr& layer, const KerasTensor& x) {
  return apply_layer(layer, std::vector<KerasTensor>{x});
}

// ---- Model ------------------------------------------------------------------

// A model used as a layer of another, as Keras's
// Sequential([backbone, GlobalAveragePooling2D(), Dense(n)]) holds it, or a
// Functional calling it (keras.io's `x = backbone(inputs, training=False)`).
// The engine runs the two as one flat graph; this record keeps what Keras's
// files need to write the backbone back as one nested layer.
struct NestedModel {
  std::string name;                 // the backbone model's name, e.g. "resnet50"
  std::string input_name;           // its own InputLayer's name
  std::vector<std::string> layers;  // its other layers' names, in its model.layers order
  bool functional_outer = false;    // the outer model is a Functional, not a Sequential
};

class Model {
 public:
  // Weights are drawn from `seed`: the same seed gives the same model.
  // Unnamed layers get Keras's default names, unique within this model (Keras
  // keeps counting across the models of a session; this engine does not).
  Model(const std::vector<KerasTensor>& inputs, const std::vector<KerasTensor>& outputs,
        std::string name = "model", uint64_t seed = 0);
  virtual ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const std::string& name() const { return name_; }
  virtual bool is_sequential() const { return false; }
  uint64_t seed() const { return seed_; }

  // Every layer, InputLayers included, in Keras's order for model.layers
  // (by depth from the outputs, ties in traversal order).
  std::vector<LayerPtr> layers() const;
  LayerPtr get_layer(const std::string& name) const;  // throws when absent
  // Names of the layers feeding the layer at `index` of layers().
  std::vector<std::string> inbound_layer_names(size_t index) const;
  Shape output_shape_of(size_t index) const;  // (None, ...) of layers()[index]
  std::vector<std::string> input_names() const;
  std::vector<std::string> output_names() const;
  Shape input_shape() const;   // of the single input, with batch -1
  Shape output_shape() const;  // of the single output, with batch -1

  // The model's graph as symbolic tensors over its own layers (Keras's
  // model.inputs / model.outputs), to build a larger model on top of it:
  // the layers are shared, not copied, so freezing them freezes both.
  struct Symbolic {
    std::vector<KerasTensor> inputs, outputs;
  };
  Symbolic symbolic() const;

  // The input preprocessing the model's weights expect, applied by the data
  // flow and by predict's callers: "" (none) or "caffe" (Keras's
  // preprocess_input for ResNet50: RGB -> BGR, ImageNet means subtracted).
  const std::string& preprocessing() const { return preprocessing_; }
  void set_preprocessing(std::string mode);

  // The backbone this model was stacked on or loaded with as a nested
  // model, or null; Keras's files write it nested where the graph still
  // holds it as one call (nn/nested_layout.h).
  const NestedModel* nested() const { return nested_ ? &*nested_ : nullptr; }
  void set_nested(NestedModel nested) { nested_ = std::move(nested); }

  int64_t count_params() const;
  int64_t count_trainable_params() const;
  // Trainable weights in layer order (those an optimizer updates).
  std::vector<Weight*> trainable_weights();
  std::vector<Weight*> all_weights();
  void set_trainable(bool on);  // every layer
  // Moves every weight (and the optimizer's state) to `device`; fit,
  // evaluate and predict then move each batch there and their results back.
  // Throws DeviceError when the device is not available.
  void to(Device device);
  Device device() const { return device_; }
  // Keras's get_weights / set_weights: copies of every weight, in layer
  // order, on the CPU.
  std::vector<Tensor> get_weights() const;
  void set_weights(const std::vector<Tensor>& weights);  // shapes checked, layer named on error

  // Runs the graph. Inputs must match the InputLayers' shapes (any batch).
  // With skip_final_activation the output layer's activation is left off,
  // which the fused softmax/sigmoid cross-entropy path uses.
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, bool training, Rng* rng = nullptr,
                           bool skip_final_activation = false);
  Tensor call(const Tensor& x, bool training = false) { return call(std::vector<Tensor>{x}, training)[0]; }

  // The outputs of the named layers for x (single-input models), in
  // inference mode and one pass: Keras's Model(model.input, [layer.output,
  // ...]).predict(x). Feature-map views use it. Throws naming an unknown layer.
  std::vector<Tensor> layer_outputs(const Tensor& x, const std::vector<std::string>& layer_names);

  // Keras's model.summary() table, exactly as tf.keras 2.x prints it.
  std::string summary() const;

  // ---- training (implemented in src/train/) ----
  void compile(std::shared_ptr<optim::Optimizer> optimizer, const std::string& loss,
               const std::vector<std::string>& metrics = {});
  bool compiled() const;
  optim::Optimizer& optimizer() const;
  const std::string& loss_name() const;
  const std::vector<std::string>& metric_names() const;  // as given, e.g. "accuracy"

  // Keras's fit: trains on (x, y) or on a Dataset, returns the History.
  train::History fit(const Tensor& x, const Tensor& y, const train::FitOptions& opt = {});
  train::History fit(train::Dataset& data, const train::FitOptions& opt = {});
  // Loss and metrics over the data, in batches, in inference mode.
  train::Logs evaluate(const Tensor& x, const Tensor& y, int64_t batch_size = 32);
  train::Logs evaluate(train::Dataset& data, int64_t steps = -1);
  // Outputs for x in batches, in inference mode (no graph is recorded).
  Tensor predict(const Tensor& x, int64_t batch_size = 32);

  // Gradients without an update, as tf.GradientTape gives them.
  struct Gradients {
    Tensor output;                     // the model's output (probabilities, not logits)
    double loss = 0.0;                 // loss_gradients only
    Tensor input_grad;                 // dL/dx
    std::vector<Tensor> weight_grads;  // dL/dw in get_weights() order; zeros where frozen
  };
  // The vector-Jacobian product: gradients of L = sum(output * output_grad).
  Gradients vjp(const Tensor& x, const Tensor& output_grad, bool training = false);
  // The compiled loss on (x, y) and its gradients, exactly as one fit step
  // computes them (fused path included), without updating the weights.
  Gradients loss_gradients(const Tensor& x, const Tensor& y, bool training = true);

  bool stop_training = false;  // set by a callback to stop fit() after the current batch

  struct Training;  // what compile() fixed (opaque; src/train/training_state.h)

 protected:
  Model(std::string name, uint64_t seed);
  // Rebuilds the node list from symbolic inputs/outputs, building new layers.
  void init_graph(const std::vector<KerasTensor>& inputs, const std::vector<KerasTensor>& outputs);

 private:
  // Runs the graph and returns the values of the nodes in `keep` (in that
  // order); every other value is freed after its last consumer.
  std::vector<Tensor> run_graph(const std::vector<Tensor>& inputs, bool training, Rng* rng,
                                bool skip_final_activation, const std::vector<int>& keep);

  struct Node {
    LayerPtr layer;
    std::vector<int> inbound;  // indices into nodes_
    Shape shape;               // output shape, batch -1
  };
  // Conv2D -> BatchNormalization [-> Add(shortcut)] [-> ReLU], each value
  // used once: inference runs it as one conv with a fused epilogue
  // (src/nn/conv_chains.cpp). Node indices; -1 where the chain has no such step.
  struct ConvChain {
    int conv = -1, bn = -1, add = -1, residual = -1, relu = -1;
  };
  void find_conv_chains();
  // Runs the chain starting at its conv when this call allows it (moving
  // statistics, nothing to record, no intermediate value wanted), storing
  // the result at its last node; false when the nodes must run one by one.
  // A shortcut not computed yet shortens the chain to conv + batch norm
  // (`chain` says what ran).
  bool run_conv_chain(ConvChain& chain, std::vector<Tensor>& values, const CallContext& ctx,
                      const std::vector<bool>& pinned, bool skip_final_activation) const;
  std::vector<int> chain_at_;  // per node: index into chains_ of the chain it starts, or -1
  std::vector<ConvChain> chains_;
  std::string name_;
  uint64_t seed_;
  Device device_ = Device::CPU;
  std::string preprocessing_;
  std::optional<NestedModel> nested_;
  std::vector<Node> nodes_;  // execution order = Keras's layer order
  std::vector<int> input_nodes_, output_nodes_;
  std::unique_ptr<Training> training_;
  // Epochs fit() has begun on this model: a later fit() draws its shuffles
  // and dropout masks on from there, as Keras's random state goes on,
  // instead of replaying the first run's.
  int64_t passes_begun_ = 0;
  friend struct TrainingAccess;
};

class Sequential : public Model {
 public:
  // The first layer is an InputLayer or carries a declared input shape.
  explicit Sequential(std::vector<LayerPtr> layers = {}, std::string name = "sequential", uint64_t seed = 0);
  bool is_sequential() const override { return true; }
  void add(const LayerPtr& layer);
  // model.layers of a Keras Sequential: every layer but the InputLayer.
  std::vector<LayerPtr> sequential_layers() const { return layers_; }

 private:
  void rebuild();
  std::vector<LayerPtr> layers_;
  LayerPtr input_;           // the InputLayer, kept out of layers_ as Keras does
  bool auto_input_ = false;  // made from the first layer's declared input shape
};

}  // namespace cnn::nn
