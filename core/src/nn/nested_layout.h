// Where a model still calls its backbone (Model::nested()) once, as Keras's
// Sequential([backbone, ...head]) or a Functional's `backbone(x)` does, the
// backbone is written to Keras's files as one nested Functional layer, as
// tf.keras 2.x writes it; otherwise the model is written as the flat graph
// it is.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cnn/nn/model.h"

namespace cnn::nn {

struct NestedLayout {
  const NestedModel* nested;
  std::vector<LayerPtr> inner;  // the backbone's layers, in its order
  LayerPtr inner_output;        // the backbone's output layer
  LayerPtr entry;               // the outer layer whose output the backbone is called on
  // The outer model's layers in Keras's model.layers order for the outer
  // graph, with the backbone one entry (null) at its place; InputLayers
  // included (a Sequential's model.layers leaves its own out).
  std::vector<LayerPtr> outer;
  bool trainable;  // Keras's backbone.trainable: any of its layers trainable

  // The outer layers reading `layer`, by name: the backbone's output is read
  // as the backbone's call, node 1 (node 0 being its own Input's).
  struct Ref {
    std::string name;
    int node;
  };
  Ref ref(const LayerPtr& layer) const;
  // The outer model.layers as Keras lists them: `outer`, less the
  // InputLayer of a Sequential outer model.
  std::vector<LayerPtr> model_layers() const;
  // The layers after the backbone, for a Sequential outer model.
  std::vector<LayerPtr> head() const;
};

// The nested layout of `model`, or none where the model has no backbone
// record or its graph no longer calls the backbone as one layer (for a
// Sequential record: the backbone on the input, then a chain of layers).
std::optional<NestedLayout> nested_layout(const Model& model);

}  // namespace cnn::nn
