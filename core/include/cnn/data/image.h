// Images as Keras loads them: decoded from bytes (PNG, JPEG, BMP, PPM/PGM,
// GIF's first frame) with stb_image, converted to the colour mode the way
// PIL's convert() does, and resized like PIL's resize() (Keras's load_img).
// Pixels are uint8, (height, width, channels), row-major.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cnn/tensor.h"

namespace cnn::data {

enum class ColorMode { RGB, Grayscale, RGBA };
ColorMode parse_color_mode(const std::string& s);  // "rgb" | "grayscale" | "rgba"
const char* color_mode_name(ColorMode m);
int64_t color_mode_channels(ColorMode m);

enum class Interpolation { Nearest, Bilinear };  // Keras's default is nearest
Interpolation parse_interpolation(const std::string& s);
const char* interpolation_name(Interpolation i);

struct Image {
  int64_t height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels;  // (height, width, channels)
};

// Throws ValueError naming `name` and why: not an image, corrupt or
// truncated data, TIFF (which this decoder cannot read).
Image decode_image(const uint8_t* data, size_t size, ColorMode mode, const std::string& name);

// PIL-exact: 'nearest' samples floor((i + 0.5) * in / out); 'bilinear' is
// PIL's separable triangle filter, widened when shrinking (antialiased),
// with PIL's 22-bit fixed-point rounding.
Image resize_image(const Image& img, int64_t height, int64_t width, Interpolation interp);

// PNG / JPEG file bytes for an image (1 to 4 channels; JPEG drops alpha).
std::vector<uint8_t> encode_png(const Image& img);
std::vector<uint8_t> encode_jpeg(const Image& img, int quality = 90);

// keras.utils.load_img + img_to_array, then in Keras's order the model's
// preprocess_input (`preprocessing`, "" or "caffe", on the 0..255 pixels)
// and the rescale factor `scale` (e.g. 1/255; 0 is none, as FlowOptions'
// rescale and Keras's rescale=None): file bytes -> a (1, height, width,
// channels) float tensor, ready for predict().
Tensor image_tensor(const uint8_t* data, size_t size, const std::string& name, int64_t height, int64_t width,
                    ColorMode mode, Interpolation interp, float scale, const std::string& preprocessing = "");

}  // namespace cnn::data
