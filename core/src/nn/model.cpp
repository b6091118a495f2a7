// Functional graph: building the node list in Keras's layer order, naming
// layers, initialising weights from the model seed, and running the graph.
#include "cnn/nn/model.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>

#include "cnn/autograd.h"
#include "cnn/error.h"
#include "cnn/nn/layers.h"
#include "cnn/optim/optimizer.h"
#include "train/training_state.h"

namespace cnn::nn {

const Shape& KerasTensor::shape() const {
  if (!node) throw ValueError("KerasTensor: empty symbolic tensor");
  return node->shape;
}

KerasTensor Input(const Shape& shape, const std::string& name) {
  auto layer = std::make_shared<InputLayer>(shape, name);
  auto node = std::make_shared<GraphNode>();
  node->layer = layer;
  node->shape = layer->compute_output_shape({});
  return {node};
}

KerasTensor apply_layer(const LayerPtr& layer, const std::vector<KerasTensor>& inputs) {
  if (!layer) throw ValueError("apply: null layer");
  if (!layer->accepts_input_count(inputs.size()))
    throw ShapeError(
        str_cat(layer->class_name(), " '", layer->name(), "': cannot take ", inputs.size(), " input(s)"));
  std::vector<Shape> shapes;
  for (const KerasTensor& t : inputs) shapes.push_back(t.shape());
  auto node = std::make_shared<GraphNode>();
  node->layer = layer;
  node->inputs = inputs;
  node->shape = layer->compute_output_shape(shapes);
  return {node};
}

Model::Model(std::string name, uint64_t seed) : name_(std::move(name)), seed_(seed) {}

Model::Model(const std::vector<KerasTensor>& inputs, const std::vector<KerasTensor>& outputs,
             std::string name, uint64_t seed)
    : name_(std::move(name)), seed_(seed) {
  init_graph(inputs, outputs);
}

Model::~Model() = default;

void Model::init_graph(const std::vector<KerasTensor>& inputs, const std::vector<KerasTensor>& outputs) {
  if (inputs.empty() || outputs.empty())
    throw ValueError("Model '" + name_ + "': needs at least one input and one output");
  // Keras orders model.layers by depth from the outputs (deepest first), ties
  // by the pre-order index of a depth-first walk from the outputs.
  std::unordered_map<GraphNode*, int> pre_index, depth;
  std::set<GraphNode*> in_progress, done;
  std::vector<GraphNode*> finished;  // post-order: inputs before consumers
  std::function<void(GraphNode*)> visit = [&](GraphNode* n) {
    if (done.count(n)) return;
    if (in_progress.count(n)) throw ValueError("Model '" + name_ + "': the layer graph has a cycle");
    pre_index.emplace(n, static_cast<int>(pre_index.size()));
    in_progress.insert(n);
    for (const KerasTensor& t : n->inputs) visit(t.node.get());
    in_progress.erase(n);
    done.insert(n);
    finished.push_back(n);
  };
  for (const KerasTensor& o : outputs) visit(o.node.get());
  // Depth: longest path to any output.
  for (auto it = finished.rbegin(); it != finished.rend(); ++it) depth.emplace(*it, 0);
  for (auto it = finished.rbegin(); it != finished.rend(); ++it)
    for (const KerasTensor& t : (*it)->inputs)
      depth[t.node.get()] = std::max(depth[t.node.get()], depth[*it] + 1);
  std::vector<GraphNode*> order = finished;
  std::stable_sort(order.begin(), order.end(), [&](GraphNode* a, GraphNode* b) {
    if (depth[a] != depth[b]) return depth[a] > depth[b];
    return pre_index[a] < pre_index[b];
  });

  std::set<const Layer*> seen_layers;
  for (GraphNode* n : order)
    if (!seen_layers.insert(n->layer.get()).second)
      throw ValueError("Model '" + name_ + "': layer '" + n->layer->name() +
                       "' is used more than once; shared layers are not supported");
  for (const KerasTensor& in : inputs)
    if (!dynamic_cast<InputLayer*>(in.node->layer.get()))
      throw ValueError("Model '" + name_ + "': every model input must come from Input()");

  // Default names, Keras-style: snake_case class name, then _1, _2, ...
  std::set<std::string> taken;
  for (GraphNode* n : order)
    if (!n->layer->name().empty()) taken.insert(n->layer->name());
  std::map<std::string, int> counters;
  for (GraphNode* n : order) {
    if (!n->layer->name().empty()) continue;
    const bool is_input = dynamic_cast<InputLayer*>(n->layer.get()) != nullptr;
    const std::string base = is_input ? "input" : default_layer_name(n->layer->class_name());
    int& k = counters[base];
    std::string candidate;
    do {
      candidate =
          is_input ? base + "_" + std::to_string(++k) : (k == 0 ? base : base + "_" + std::to_string(k));
      if (!is_input) ++k;
    } while (taken.count(candidate));
    taken.insert(candidate);
    n->layer->set_name(candidate);
  }
  std::set<std::string> names;
  for (GraphNode* n : order)
    if (!names.insert(n->layer->name()).second)
      throw ValueError("Model '" + name_ + "': two layers are named '" + n->layer->name() +
                       "'; layer names must be unique");

  nodes_.clear();
  std::unordered_map<GraphNode*, int> index;
  for (GraphNode* n : order) {
    Node node{n->layer, {}, n->shape};
    for (const KerasTensor& t : n->inputs) node.inbound.push_back(index.at(t.node.get()));
    index[n] = static_cast<int>(nodes_.size());
    nodes_.push_back(std::move(node));
  }
  input_nodes_.clear();
  output_nodes_.clear();
  for (const KerasTensor& t : inputs) {
    if (!index.count(t.node.get()))
      throw ValueError("Model '" + name_ + "': input '" + t.node->layer->name() +
                       "' is not connected to the outputs");
    input_nodes_.push_back(index.at(t.node.get()));
  }
  for (const KerasTensor& t : outputs) output_nodes_.push_back(index.at(t.node.get()));
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].inbound.empty() &&
        std::find(input_nodes_.begin(), input_nodes_.end(), static_cast<int>(i)) == input_nodes_.end())
      throw ValueError("Model '" + name_ + "': input '" + nodes_[i].layer->name() +
                       "' is needed by the outputs but not listed as a model input");

  // Each layer draws its initial weights from its own stream, derived from
  // the model seed and its position, so models built alike are equal.
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Layer& l = *nodes_[i].layer;
    if (l.built()) continue;
    std::vector<Shape> in_shapes;
    for (int j : nodes_[i].inbound) in_shapes.push_back(nodes_[j].shape);
    Rng rng(seed_ * 0x9E3779B97F4A7C15ull + i + 1);
    l.build(in_shapes, rng);
  }
  find_conv_chains();
}

Model::Symbolic Model::symbolic() const {
  std::vector<KerasTensor> made(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) {
    auto node = std::make_shared<GraphNode>();
    node->layer = nodes_[i].layer;
    node->shape = nodes_[i].shape;
    for (int j : nodes_[i].inbound) node->inputs.push_back(made[j]);
    made[i] = {node};
  }
  Symbolic out;
  for (int i : input_nodes_) out.inputs.push_back(made[i]);
  for (int i : output_nodes_) out.outputs.push_back(made[i]);
  return out;
}

void Model::set_preprocessing(std::string mode) {
  if (!mode.empty() && mode != "caffe")
    throw ValueError("Model '" + name_ + "': preprocessing must be '' (none) or 'caffe', got '" + mode + "'");
  preprocessing_ = std::move(mode);
}

std::vector<LayerPtr> Model::layers() const {
  std::vector<LayerPtr> out;
  for (const Node& n : nodes_) out.push_back(n.layer);
  return out;
}

LayerPtr Model::get_layer(const std::string& name) const {
  for (const Node& n : nodes_)
    if (n.layer->name() == name) return n.layer;
  throw ValueError("Model '" + name_ + "': no layer named '" + name + "'");
}

std::vector<std::string> Model::inbound_layer_names(size_t index) const {
  std::vector<std::string> out;
  for (int j : nodes_.at(index).inbound) out.push_back(nodes_[j].layer->name());
  return out;
}

Shape Model::output_shape_of(size_t index) const { return nodes_.at(index).shape; }

std::vector<std::string> Model::input_names() const {
  std::vector<std::string> out;
  for (int i : input_nodes_) out.push_back(nodes_[i].layer->name());
  return out;
}

std::vector<std::string> Model::output_names() const {
  std::vector<std::string> out;
  for (int i : output_nodes_) out.push_back(nodes_[i].layer->name());
  return out;
}

Shape Model::input_shape() const {
  if (input_nodes_.size() != 1) throw ValueError("Model '" + name_ + "' has several inputs");
  return nodes_[input_nodes_[0]].shape;
}

Shape Model::output_shape() const {
  if (output_nodes_.size() != 1) throw ValueError("Model '" + name_ + "' has several outputs");
  return nodes_[output_nodes_[0]].shape;
}

int64_t Model::count_params() const {
  int64_t n = 0;
  for (const Node& node : nodes_) n += node.layer->count_params();
  return n;
}

int64_t Model::count_trainable_params() const {
  int64_t n = 0;
  for (const Node& node : nodes_) n += node.layer->count_trainable_params();
  return n;
}

std::vector<Weight*> Model::trainable_weights() {
  std::vector<Weight*> out;
  for (Node& node : nodes_)
    for (Weight& w : node.layer->weights())
      if (node.layer->weight_trainable(w)) out.push_back(&w);
  return out;
}

std::vector<Weight*> Model::all_weights() {
  std::vector<Weight*> out;
  for (Node& node : nodes_)
    for (Weight& w : node.layer->weights()) out.push_back(&w);
  return out;
}

void Model::set_trainable(bool on) {
  for (Node& node : nodes_) node.layer->set_trainable(on);
}

std::vector<Tensor> Model::call(const std::vector<Tensor>& inputs, bool training, Rng* rng,
                                bool skip_final_activation) {
  return run_graph(inputs, training, rng, skip_final_activation, output_nodes_);
}

std::vector<Tensor> Model::layer_outputs(const Tensor& x, const std::vector<std::string>& layer_names) {
  std::vector<int> keep;
  for (const std::string& name : layer_names) {
    int found = -1;
    for (size_t i = 0; i < nodes_.size() && found < 0; ++i)
      if (nodes_[i].layer->name() == name) found = static_cast<int>(i);
    if (found < 0) throw ValueError("Model '" + name_ + "': no layer named '" + name + "'");
    keep.push_back(found);
  }
  NoGradGuard no_grad;
  return run_graph({x}, false, nullptr, false, keep);
}

std::vector<Tensor> Model::run_graph(const std::vector<Tensor>& inputs, bool training, Rng* rng,
                                     bool skip_final_activation, const std::vector<int>& keep) {
  if (nodes_.empty()) throw ValueError("Model '" + name_ + "': the model has no layers yet");
  if (inputs.size() != input_nodes_.size())
    throw ValueError(
        str_cat("Model '", name_, "': expected ", input_nodes_.size(), " input(s), got ", inputs.size()));
  std::vector<Tensor> values(nodes_.size());
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Shape& want = nodes_[input_nodes_[k]].shape;
    const Shape& got = inputs[k].shape();
    bool ok = got.size() == want.size();
    for (size_t d = 1; ok && d < want.size(); ++d) ok = got[d] == want[d];
    if (!ok)
      throw ShapeError("Model '" + name_ + "': input '" + nodes_[input_nodes_[k]].layer->name() +
                       "' has shape " + shape_str(got) + ", expected " + shape_str(want));
    values[input_nodes_[k]] = inputs[k];
  }
  // Free each value after its last consumer so inference holds only the
  // live frontier of activations (with grad recording, the graph keeps what
  // backward needs anyway).
  std::vector<int> last_use(nodes_.size(), -1);
  for (size_t i = 0; i < nodes_.size(); ++i)
    for (int j : nodes_[i].inbound) last_use[j] = static_cast<int>(i);
  std::vector<bool> is_output(nodes_.size(), false), kept(nodes_.size(), false);
  for (int o : output_nodes_) is_output[o] = true;
  for (int k : keep) kept[k] = true;

  CallContext ctx;
  ctx.training = training;
  ctx.rng = rng;
  std::vector<bool> pinned(nodes_.size(), false);  // values the caller gets back
  for (size_t i = 0; i < nodes_.size(); ++i) pinned[i] = is_output[i] || kept[i];
  std::vector<bool> done(nodes_.size(), false);  // computed by a fused conv chain
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].inbound.empty()) continue;  // an input, already set
    ctx.skip_activation = skip_final_activation && is_output[i];
    if (!done[i]) {
      ConvChain c = chain_at_[i] >= 0 ? chains_[chain_at_[i]] : ConvChain{};
      if (c.conv >= 0 && run_conv_chain(c, values, ctx, pinned, skip_final_activation)) {
        for (int n : {c.bn, c.add, c.relu})
          if (n >= 0) done[n] = true;
      } else {
        std::vector<Tensor> args;
        for (int j : nodes_[i].inbound) args.push_back(values[j]);
        values[i] = nodes_[i].layer->call(args, ctx);
      }
    }
    for (int j : nodes_[i].inbound)
      if (last_use[j] == static_cast<int>(i) && !kept[j]) values[j] = Tensor();
  }
  std::vector<Tensor> out;
  for (int k : keep) out.push_back(values[k]);
  return out;
}

// ---- Sequential ---------------------------------------------------------------

Sequential::Sequential(std::vector<LayerPtr> layers, std::string name, uint64_t seed)
    : Model(std::move(name), seed) {
  for (const LayerPtr& l : layers) add(l);
}

void Sequential::add(const LayerPtr& layer) {
  if (!layer) throw ValueError("Sequential::add: null layer");
  if (auto* in = dynamic_cast<InputLayer*>(layer.get())) {
    if (input_ || !layers_.empty())
      throw ValueError("Sequential '" + name() + "': an InputLayer can only be the first layer");
    (void)in;
    input_ = layer;
    return;
  }
  if (!layer->accepts_input_count(1))
    throw ValueError("Sequential '" + name() + "': " + layer->class_name() +
                     " takes several inputs; use a functional Model");
  if (!input_ && layers_.empty() && !layer->declared_input_shape().empty()) {
    input_ = std::make_shared<InputLayer>(layer->declared_input_shape());
    auto_input_ = true;
  }
  layers_.push_back(layer);
  try {
    rebuild();
  } catch (const ShapeError& e) {
    layers_.pop_back();  // leave the model as it was before the bad layer
    // Say where: an unnamed layer has no name to point at yet.
    throw ShapeError("layer " + std::to_string(layers_.size() + 1) + ": " + e.what());
  } catch (...) {
    layers_.pop_back();
    throw;
  }
}

void Sequential::rebuild() {
  if (!input_) return;  // built once the input shape is known
  KerasTensor x{};
  auto node = std::make_shared<GraphNode>();
  node->layer = input_;
  node->shape = input_->compute_output_shape({});
  x.node = node;
  KerasTensor in = x;
  for (const LayerPtr& l : layers_) x = apply_layer(l, x);
  init_graph({in}, {x});
  // Keras names the input a Sequential makes for itself "<first layer>_input".
  if (input_->name().rfind("input_", 0) == 0 && !layers_.empty() && auto_input_)
    input_->set_name(layers_[0]->name() + "_input");
}

}  // namespace cnn::nn
