// keras.applications' preprocess_input, for models trained on preprocessed
// images (ResNet50's ImageNet weights use 'caffe').
#pragma once

#include <cstdint>
#include <string>

#include "cnn/tensor.h"

namespace cnn::data {

// Throws ValueError unless mode is "" (none) or "caffe".
void check_preprocessing_mode(const std::string& mode);

// 'caffe' mode on n pixels of 3 channels (RGB, 0..255) in place: to BGR,
// then [103.939, 116.779, 123.68] subtracted; no scaling. "" does nothing.
void preprocess_input(float* pixels, int64_t n_pixels, int64_t channels, const std::string& mode);

// The same on a copy of an (N, H, W, 3) or (H, W, 3) tensor.
Tensor preprocess_input(const Tensor& images, const std::string& mode);

}  // namespace cnn::data
