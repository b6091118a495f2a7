// A model as one byte string: its Keras JSON and every weight, so the npm API
// and the page can save a model and load it back exactly. (Keras's own HDF5
// layout is written by the ResNet50/weights part of the project.)
//
// Layout, little-endian: "CNNPMDL1", u32 json length, json bytes, u32 weight
// count, then per weight: u32 name length, name ("layer/weight"), u32 rank,
// rank x i64 dims, float32 values; then optionally u32 length + a metadata
// JSON object (e.g. {"class_names": [...]}).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cnn/nn/model.h"

namespace cnn::io {

// `metadata`: a JSON object text stored beside the model, or "".
std::vector<uint8_t> save_model_bytes(const nn::Model& model, const std::string& metadata = "");
// Throws ValueError naming what is wrong (not a model file, truncated, a
// weight whose name or shape does not match the architecture). The stored
// metadata text ("" when none) goes to *metadata when given.
std::unique_ptr<nn::Model> load_model_bytes(const uint8_t* data, size_t size, std::string* metadata = nullptr);

}  // namespace cnn::io
