// Where a model still has the shape Keras's Sequential([backbone, ...head])
// gives it, the backbone (Model::nested()) is written to Keras's files
// as one nested Functional layer, as tf.keras 2.x writes it; otherwise the
// model is written as the flat graph it is.
#pragma once

#include <optional>
#include <vector>

#include "cnn/nn/model.h"

namespace cnn::nn {

struct NestedLayout {
  const NestedModel* nested;
  LayerPtr input;               // the model's InputLayer
  std::vector<LayerPtr> inner;  // the backbone's layers, in its order
  LayerPtr inner_output;        // the backbone's output layer
  std::vector<LayerPtr> head;   // the layers after it, one chain
  bool trainable;               // Keras's backbone.trainable: any of its layers trainable
};

// The nested layout of `model`, or none where the model has no backbone
// record or its graph is no longer the backbone followed by a chain.
std::optional<NestedLayout> nested_layout(const Model& model);

}  // namespace cnn::nn
