// Keras model JSON (model.to_json()): read what tf.keras 2.x writes for
// Sequential and Functional models (Keras 3's layout is read too), and write
// exactly what tf.keras 2.12 writes, so Keras reads our models back.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "cnn/nn/model.h"

namespace cnn::io {

// Builds the model the JSON describes, drawing fresh weights from `seed`
// (JSON carries no weights). Unsupported layers or options throw a
// ValueError naming the layer and the option.
std::unique_ptr<nn::Model> model_from_json(const std::string& text, uint64_t seed = 0);

// The model's architecture as tf.keras 2.12's model.to_json() text.
std::string model_to_json(const nn::Model& model);

// One layer from its Keras class name and config dictionary.
nn::LayerPtr layer_from_config(const std::string& class_name, const nlohmann::json& config);

}  // namespace cnn::io
