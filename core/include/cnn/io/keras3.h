// Keras 3's own formats: the .keras archive (model.save('m.keras'): a zip of
// config.json, metadata.json and model.weights.h5) and the .weights.h5 file
// (model.save_weights). Their weights sit at layers/<path>/vars/<i>, where
// a layer's path is named after its class and place in model.layers
// ('conv2d', 'conv2d_1', ..., a nested model's as
// 'layers/functional/layers/conv2d'), not after the layer's name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "cnn/io/hdf5_tree.h"
#include "cnn/io/keras_h5.h"
#include "cnn/nn/model.h"

namespace cnn::io {

// Whether a weights tree has Keras 3's layout (or tf.keras 2.13-2.15's,
// _layer_checkpoint_dependencies/<path>/vars).
bool is_keras3_weights(const H5Group& root);

// Sets the model's weights from a Keras 3 weights tree, layer by layer in
// the model's structure (the files keep no layer names). As load_keras_weights,
// nothing changes unless every weight fits; errors name the layer and its path.
KerasWeightsReport load_keras3_weights(nn::Model& model, const H5Group& root);

// What a .keras archive holds: config.json's text and where
// model.weights.h5's bytes lie in the archive.
struct Keras3Archive {
  std::string config;
  size_t weights_offset = 0, weights_size = 0;
};
// Throws ValueError naming what is missing or wrong.
Keras3Archive read_keras3_archive(const uint8_t* data, size_t size);

// keras.saving.load_model of a .keras archive: the model config.json
// describes, the weights of model.weights.h5 (read by the caller into
// `weights`), compiled from its compile_config where the engine knows its
// optimizer and loss.
std::unique_ptr<nn::Model> load_keras3_model(const std::string& config, const H5Group& weights);

}  // namespace cnn::io
