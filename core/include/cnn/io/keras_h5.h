// Keras's HDF5 formats, mapped onto models (the file itself is an H5Group
// tree; see hdf5_tree.h for who reads and writes real files):
//  - weights alone, as model.save_weights('w.h5') and keras.applications'
//    weight files hold them (root attribute layer_names, one group per layer
//    with a weight_names attribute, datasets at <layer>/<layer>/kernel:0);
//  - the whole model, as model.save('m.h5') writes it (model_config,
//    training_config, the weights under model_weights).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cnn/io/hdf5_tree.h"
#include "cnn/nn/model.h"

namespace cnn::io {

struct KerasWeightsOptions {
  // false: Keras's load_weights default, layer by layer in order of the
  // layers that have weights (names are compared and reported, not required
  // to match). true: by layer name; file layers the model lacks are skipped.
  bool by_name = false;
  // by_name only: leave model layers the file lacks as they are instead of
  // failing.
  bool allow_missing = false;
};

struct KerasWeightsReport {
  int64_t layers = 0;              // layers whose weights were set
  int64_t values = 0;              // float values copied
  bool legacy_names = false;       // keras-applications 0.2 names (bn_conv1, res2a_branch2a, ...)
  std::vector<std::string> notes;  // what a careful user wants to know (renamed layers, epsilon)
};

// Sets the model's weights from a Keras weights file, or from the
// model_weights group of a full-model file. Nothing is changed unless every
// weight fits: a missing layer, a weight count or a shape that differs
// throws ValueError naming the layer, the expected and the found shape.
// Files in the keras-applications 0.2 naming are mapped onto the current
// names, and their BatchNormalization epsilon (1e-3) is set on the model.
KerasWeightsReport load_keras_weights(nn::Model& model, const H5Group& file,
                                      const KerasWeightsOptions& options = {});

// model.save_weights('w.h5') of tf.keras 2.12 (the legacy HDF5 layout).
void save_keras_weights(const nn::Model& model, H5Group& file);

// model.save('m.h5') of tf.keras 2.12: model_config (the model JSON),
// training_config when compiled, the weights under model_weights, and our
// own `metadata` JSON text (e.g. class names) in an attribute Keras ignores.
void save_keras_model(const nn::Model& model, H5Group& file, const std::string& metadata = "");

// keras.models.load_model('m.h5'): the architecture from model_config, the
// weights in order, compiled from training_config when it has one we know.
// The metadata text ("" when none) goes to *metadata when given.
std::unique_ptr<nn::Model> load_keras_model(const H5Group& file, std::string* metadata = nullptr);

// Whether the tree holds a full model (model_config) rather than weights alone.
bool is_keras_model_file(const H5Group& file);

// The current Keras name of a keras-applications 0.2 ResNet layer name
// ("bn_conv1" -> "conv1_bn", "res3b_branch2a" -> "conv3_block2_1_conv",
// "fc1000" -> "predictions"); other names come back unchanged.
std::string modern_resnet_layer_name(const std::string& name);

}  // namespace cnn::io
