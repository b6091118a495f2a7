// Image decoding and resizing (keras.utils.load_img + img_to_array): any
// bytes, any colour mode, interpolation and target size. The first byte
// picks the options; the rest is the file.
#include <exception>

#include "cnn/data/image.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cnnfuzz::setup_once();
  if (size < 2) return 0;
  const uint8_t opt = data[0], dims = data[1];
  const cnn::data::ColorMode modes[] = {cnn::data::ColorMode::Grayscale, cnn::data::ColorMode::RGB,
                                        cnn::data::ColorMode::RGBA};
  const auto mode = modes[opt % 3];
  const auto interp = (opt & 4) ? cnn::data::Interpolation::Bilinear : cnn::data::Interpolation::Nearest;
  const int64_t h = 1 + (dims & 0x0f) * 3, w = 1 + (dims >> 4) * 3;
  try {
    cnn::Tensor t = cnn::data::image_tensor(data + 2, size - 2, "fuzz.img", h, w, mode, interp, 1.0f / 255);
    if (t.numel() != h * w * cnn::data::color_mode_channels(mode)) __builtin_trap();
  } catch (const std::exception&) {
    // refused in words: what the engine must do with a bad file
  }
  return 0;
}
