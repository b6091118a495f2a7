// The tap tables (ops::Resampling) of the random image layers' transforms,
// with TensorFlow's ImageProjectiveTransformV3 semantics, which Keras's
// layers use: each output pixel (x = column, y = row) reads the input at
// (a0 x + a1 y + a2, b0 x + b1 y + b2), mapped into the image by the fill
// mode and sampled bilinearly (or at the nearest pixel).
#pragma once

#include <vector>

#include "cnn/nn/layers.h"
#include "cnn/ops.h"

namespace cnn::nn {

struct AffineMap {
  float a0, a1, a2, b0, b1, b2;
};

// One map per image; the output is the input's size.
ops::Resampling affine_resampling(int64_t h, int64_t w, const std::vector<AffineMap>& maps,
                                  const ImageTransformOptions& o);

// Keras's get_rotation_matrix, get_zoom_matrix and get_translation_matrix
// for an image of h x w.
AffineMap rotation_map(float angle, int64_t h, int64_t w);
AffineMap zoom_map(float zoom_x, float zoom_y, int64_t h, int64_t w);
AffineMap translation_map(float dx, float dy);

// One flip per image and axis: each output pixel reads its mirror.
ops::Resampling flip_resampling(int64_t h, int64_t w, const std::vector<bool>& left_right,
                                const std::vector<bool>& up_down);

}  // namespace cnn::nn
