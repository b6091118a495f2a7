#include "cnn/data/preprocess.h"

#include <utility>

#include "cnn/error.h"

namespace cnn::data {

void check_preprocessing_mode(const std::string& mode) {
  if (!mode.empty() && mode != "caffe")
    throw ValueError("preprocess_input: mode must be 'caffe' or none, got '" + mode + "'");
}

void preprocess_input(float* pixels, int64_t n_pixels, int64_t channels, const std::string& mode) {
  check_preprocessing_mode(mode);
  if (mode.empty()) return;
  if (channels != 3)
    throw ValueError(str_cat("preprocess_input('caffe'): expects RGB images (3 channels), got ", channels,
                             " channel(s); use color_mode 'rgb'"));
  // ImageNet's mean pixel in BGR order, as keras.applications.imagenet_utils has it.
  constexpr float kMeanB = 103.939f, kMeanG = 116.779f, kMeanR = 123.68f;
  for (int64_t i = 0; i < n_pixels; ++i) {
    float* p = pixels + i * 3;
    const float r = p[0], b = p[2];
    p[0] = b - kMeanB;
    p[1] -= kMeanG;
    p[2] = r - kMeanR;
  }
}

Tensor preprocess_input(const Tensor& images, const std::string& mode) {
  const Shape& s = images.shape();
  if (s.size() != 3 && s.size() != 4)
    throw ValueError("preprocess_input: expects (N, H, W, C) or (H, W, C) images, got " + shape_str(s));
  Tensor out = images.clone();
  const int64_t c = s.back();
  preprocess_input(out.data(), out.numel() / c, c, mode);
  return out;
}

}  // namespace cnn::data
