#include "nn/nested_layout.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

namespace cnn::nn {

namespace {

// Keras's model.layers order for a graph given as each node's inbound
// nodes: by depth from the outputs (deepest first), ties by the pre-order
// index of a depth-first walk from the outputs, as Model orders its own
// layers. Empty where the graph has a cycle.
std::vector<size_t> keras_order(const std::vector<std::vector<size_t>>& inbound,
                                const std::vector<size_t>& outputs) {
  std::map<size_t, int> pre_index, depth;
  std::set<size_t> in_progress, done;
  std::vector<size_t> finished;  // post-order: inputs before consumers
  bool cycle = false;
  std::function<void(size_t)> visit = [&](size_t n) {
    if (cycle || done.count(n)) return;
    if (in_progress.count(n)) {
      cycle = true;
      return;
    }
    pre_index.emplace(n, static_cast<int>(pre_index.size()));
    in_progress.insert(n);
    for (size_t p : inbound[n]) visit(p);
    in_progress.erase(n);
    done.insert(n);
    finished.push_back(n);
  };
  for (size_t o : outputs) visit(o);
  if (cycle) return {};
  for (size_t n : finished) depth[n] = 0;
  for (auto it = finished.rbegin(); it != finished.rend(); ++it)
    for (size_t p : inbound[*it]) depth[p] = std::max(depth[p], depth[*it] + 1);
  std::vector<size_t> order = finished;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (depth[a] != depth[b]) return depth[a] > depth[b];
    return pre_index[a] < pre_index[b];
  });
  return order;
}

// A Sequential record holds where Keras's Sequential could hold the graph:
// the backbone on the model's input, then a chain to the output.
bool is_sequential_chain(const NestedLayout& nl, const Model& model) {
  if (model.input_names().size() != 1 || model.output_names().size() != 1) return false;
  if (nl.outer.size() < 2 || !nl.outer[0] || nl.outer[1] || nl.outer[0] != nl.entry ||
      nl.entry->name() != model.input_names()[0])
    return false;
  const std::vector<LayerPtr> layers = model.layers();
  std::string prev = nl.inner_output->name();
  for (size_t i = 2; i < nl.outer.size(); ++i) {
    const size_t at =
        static_cast<size_t>(std::find(layers.begin(), layers.end(), nl.outer[i]) - layers.begin());
    const std::vector<std::string> in = model.inbound_layer_names(at);
    if (in.size() != 1 || in[0] != prev) return false;
    prev = nl.outer[i]->name();
  }
  return prev == model.output_names()[0];
}

}  // namespace

NestedLayout::Ref NestedLayout::ref(const LayerPtr& layer) const {
  if (layer == inner_output) return {nested->name, 1};
  return {layer->name(), 0};
}

std::vector<LayerPtr> NestedLayout::model_layers() const {
  std::vector<LayerPtr> out;
  for (const LayerPtr& l : outer)
    if (nested->functional_outer || !l || l->class_name() != "InputLayer") out.push_back(l);
  return out;
}

std::vector<LayerPtr> NestedLayout::head() const {
  auto it = std::find(outer.begin(), outer.end(), nullptr);
  return it == outer.end() ? std::vector<LayerPtr>{} : std::vector<LayerPtr>(it + 1, outer.end());
}

std::optional<NestedLayout> nested_layout(const Model& model) {
  const NestedModel* nested = model.nested();
  if (!nested || nested->layers.empty()) return std::nullopt;
  const std::vector<LayerPtr> layers = model.layers();
  const size_t n = layers.size();
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < n; ++i) index[layers[i]->name()] = i;
  std::vector<std::vector<size_t>> inbound(n);
  for (size_t i = 0; i < n; ++i)
    for (const std::string& src : model.inbound_layer_names(i)) inbound[i].push_back(index.at(src));

  std::vector<bool> is_inner(n, false);
  for (const std::string& name : nested->layers) {
    auto it = index.find(name);
    if (it == index.end() || is_inner[it->second] || inbound[it->second].empty()) return std::nullopt;
    is_inner[it->second] = true;
  }
  // The backbone reads one outer layer (its Input is called on that), and
  // only the backbone's output is read outside it.
  std::optional<size_t> entry, out;
  for (size_t i = 0; i < n; ++i)
    for (size_t j : inbound[i]) {
      std::optional<size_t>& end = is_inner[i] ? entry : out;
      if (is_inner[i] == is_inner[j]) continue;
      if (end && *end != j) return std::nullopt;
      end = j;
    }
  std::vector<size_t> outputs;
  for (const std::string& name : model.output_names()) {
    const size_t j = index.at(name);
    if (is_inner[j]) {
      if (out && *out != j) return std::nullopt;
      out = j;
    }
    outputs.push_back(j);
  }
  if (!entry || !out) return std::nullopt;

  // The outer graph, the backbone one node (index n) called on the entry.
  const size_t backbone = n;
  std::vector<std::vector<size_t>> outer_inbound(n + 1);
  outer_inbound[backbone] = {*entry};
  for (size_t i = 0; i < n; ++i)
    if (!is_inner[i])
      for (size_t j : inbound[i]) outer_inbound[i].push_back(is_inner[j] ? backbone : j);
  for (size_t& o : outputs)
    if (is_inner[o]) o = backbone;
  const std::vector<size_t> order = keras_order(outer_inbound, outputs);
  // Defensive: a cycle here would be one in the model's own graph too.
  if (order.empty()) return std::nullopt;

  NestedLayout nl{nested, {}, layers[*out], layers[*entry], {}, false};
  for (const std::string& name : nested->layers) {
    nl.inner.push_back(layers[index.at(name)]);
    nl.trainable = nl.trainable || nl.inner.back()->trainable();
  }
  for (size_t i : order) nl.outer.push_back(i == backbone ? nullptr : layers[i]);

  // Keras's file keeps the backbone beside the outer layers, and the
  // backbone's input beside its layers: their names must differ.
  for (const LayerPtr& l : nl.outer)
    if (l && l->name() == nested->name) return std::nullopt;
  if (index.count(nested->input_name) && is_inner[index.at(nested->input_name)]) return std::nullopt;
  if (!nested->functional_outer && !is_sequential_chain(nl, model)) return std::nullopt;
  return nl;
}

}  // namespace cnn::nn
