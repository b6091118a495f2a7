// Models on disk for cnnp: Keras .h5 files (whole models, or weights
// loaded into a built model) and the engine's own .cnnp bytes.
#pragma once

#include <memory>
#include <string>

#include "args.h"
#include "cnn/nn/model.h"

namespace cnnp {

// A saved model: Keras HDF5 (model.save layout), Keras 3's .keras archive or
// .cnnp, told apart by the file's first bytes. Our metadata JSON text ("" when none) goes to *metadata.
std::unique_ptr<cnn::nn::Model> load_model_file(const std::string& path, std::string* metadata);

// Keras HDF5 when the path ends in .h5 or .hdf5, else .cnnp bytes.
void save_model_file(const cnn::nn::Model& model, const std::string& path, const std::string& metadata);

// Refuses, before any training, a path save_model_file could not write: a
// name not ending in .h5, .hdf5 or .cnnp (a .keras name would get bytes that
// Keras cannot read), or a folder that is missing or not writable.
void check_save_path(const std::string& path);

// Loads a Keras weights file into the model (by order; by name with
// by_name), printing what the loader noted to `log`.
void load_weights_file(cnn::nn::Model& model, const std::string& path, bool by_name, std::ostream& log);

// keras.applications.ResNet50 from cnnp's options: --include-top true|false,
// --pooling avg|max, --classes N, with `input` (H, W, C).
std::unique_ptr<cnn::nn::Model> resnet50_from_args(const Args& a, const cnn::Shape& input, bool include_top);

bool parse_bool(const std::string& option, const std::string& value);

}  // namespace cnnp
