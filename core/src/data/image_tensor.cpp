#include "cnn/data/image.h"
#include "cnn/data/preprocess.h"

namespace cnn::data {

Tensor image_tensor(const uint8_t* data, size_t size, const std::string& name, int64_t height, int64_t width,
                    ColorMode mode, Interpolation interp, float scale, const std::string& preprocessing) {
  check_preprocessing_mode(preprocessing);
  const Image img = resize_image(decode_image(data, size, mode, name), height, width, interp);
  Tensor x({1, img.height, img.width, img.channels});
  float* out = x.data();
  for (size_t i = 0; i < img.pixels.size(); ++i) out[i] = static_cast<float>(img.pixels[i]);
  preprocess_input(out, img.height * img.width, img.channels, preprocessing);
  if (scale != 0.0f && scale != 1.0f)  // 0: none, as a flow's rescale (a saved 'caffe' model has 0)
    for (size_t i = 0; i < img.pixels.size(); ++i) out[i] *= scale;
  return x;
}

}  // namespace cnn::data
