#include "nn/nested_layout.h"

#include <map>
#include <set>

namespace cnn::nn {

std::optional<NestedLayout> nested_layout(const Model& model) {
  const NestedModel* nested = model.nested();
  if (!nested || nested->layers.empty() || model.input_names().size() != 1 ||
      model.output_names().size() != 1)
    return std::nullopt;
  const std::vector<LayerPtr> layers = model.layers();
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < layers.size(); ++i) index[layers[i]->name()] = i;
  const std::set<std::string> inner(nested->layers.begin(), nested->layers.end());
  // Keras's order puts the input first, then the backbone's layers (deeper
  // than the head's), then the head.
  const size_t n = nested->layers.size();
  if (inner.size() != n || layers.size() < n + 1 || layers[0]->name() != model.input_names()[0])
    return std::nullopt;
  for (size_t i = 1; i <= n; ++i)
    if (!inner.count(layers[i]->name())) return std::nullopt;
  NestedLayout out{nested, layers[0], {}, nullptr, {}, false};
  for (const std::string& name : nested->layers) {
    const size_t i = index.at(name);
    for (const std::string& src : model.inbound_layer_names(i))
      if (!inner.count(src) && src != layers[0]->name()) return std::nullopt;
    out.inner.push_back(layers[i]);
    out.trainable = out.trainable || layers[i]->trainable();
  }
  // The head: a chain from one backbone layer (the backbone's output) to
  // the model's output; no other layer reads the backbone.
  std::string prev;
  for (size_t i = n + 1; i < layers.size(); ++i) {
    const std::vector<std::string> in = model.inbound_layer_names(i);
    if (in.size() != 1) return std::nullopt;
    if (i == n + 1) {
      if (!inner.count(in[0])) return std::nullopt;
      out.inner_output = layers[index.at(in[0])];
    } else if (in[0] != prev) {
      return std::nullopt;
    }
    prev = layers[i]->name();
    out.head.push_back(layers[i]);
  }
  if (out.head.empty()) out.inner_output = layers[index.at(model.output_names()[0])];
  if (!out.head.empty() && prev != model.output_names()[0]) return std::nullopt;
  // Keras's file keeps the backbone and the head's layers side by side, and
  // the backbone's input beside its layers.
  for (const LayerPtr& l : out.head)
    if (l->name() == nested->name) return std::nullopt;
  if (inner.count(nested->input_name)) return std::nullopt;
  return out;
}

}  // namespace cnn::nn
