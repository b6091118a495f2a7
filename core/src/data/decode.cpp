// stb_image decoding plus PIL's colour conversions (what Keras's load_img
// gets from PIL's Image.convert).
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO
#define STBI_NO_HDR
#define STBI_NO_LINEAR
#define STBI_NO_PSD
#define STBI_NO_PIC
#define STBI_NO_TGA
#define STBI_FAILURE_USERMSG
#include <stb/stb_image.h>

#include <cstring>
#include <memory>

#include "cnn/data/image.h"
#include "cnn/error.h"

namespace cnn::data {

ColorMode parse_color_mode(const std::string& s) {
  if (s == "rgb") return ColorMode::RGB;
  if (s == "grayscale") return ColorMode::Grayscale;
  if (s == "rgba") return ColorMode::RGBA;
  throw ValueError("color_mode '" + s + "' is not supported, expected 'rgb', 'grayscale' or 'rgba'");
}

const char* color_mode_name(ColorMode m) {
  switch (m) {
    case ColorMode::RGB:
      return "rgb";
    case ColorMode::Grayscale:
      return "grayscale";
    default:
      return "rgba";
  }
}

int64_t color_mode_channels(ColorMode m) {
  switch (m) {
    case ColorMode::RGB:
      return 3;
    case ColorMode::Grayscale:
      return 1;
    default:
      return 4;
  }
}

Interpolation parse_interpolation(const std::string& s) {
  if (s == "nearest") return Interpolation::Nearest;
  if (s == "bilinear") return Interpolation::Bilinear;
  throw ValueError("interpolation '" + s + "' is not supported, expected 'nearest' or 'bilinear'");
}

namespace {

// PIL's ITU-R 601-2 luma in 16-bit fixed point: L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16.
inline uint8_t luma(const uint8_t* p) {
  return static_cast<uint8_t>((p[0] * 19595u + p[1] * 38470u + p[2] * 7471u + 0x8000u) >> 16);
}

bool is_tiff(const uint8_t* d, size_t n) {
  return n >= 4 && ((d[0] == 'I' && d[1] == 'I' && d[2] == 42 && d[3] == 0) ||
                    (d[0] == 'M' && d[1] == 'M' && d[2] == 0 && d[3] == 42));
}

}  // namespace

Image decode_image(const uint8_t* data, size_t size, ColorMode mode, const std::string& name) {
  if (size == 0) throw ValueError("cannot decode '" + name + "': the file is empty");
  if (is_tiff(data, size))
    throw ValueError("cannot decode '" + name +
                     "': TIFF images are not supported here; convert it to PNG or JPEG");
  if (size > static_cast<size_t>(INT32_MAX))
    throw ValueError("cannot decode '" + name + "': the file is too large");
  int w = 0, h = 0, comp = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> raw(
      stbi_load_from_memory(data, static_cast<int>(size), &w, &h, &comp, 0), stbi_image_free);
  if (!raw)
    throw ValueError(std::string("cannot decode '") + name + "': " + stbi_failure_reason() +
                     " (expected a PNG, JPEG, BMP, PPM/PGM or GIF image)");
  Image img;
  img.height = h;
  img.width = w;
  img.channels = color_mode_channels(mode);
  const size_t n = static_cast<size_t>(w) * static_cast<size_t>(h);
  img.pixels.resize(n * static_cast<size_t>(img.channels));
  const uint8_t* src = raw.get();
  uint8_t* dst = img.pixels.data();
  for (size_t i = 0; i < n; ++i, src += comp) {
    // comp: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA.
    const uint8_t grey = comp >= 3 ? luma(src) : src[0];
    const uint8_t alpha = comp == 2 ? src[1] : comp == 4 ? src[3] : 255;
    switch (mode) {
      case ColorMode::Grayscale:
        *dst++ = grey;
        break;
      case ColorMode::RGB:
      case ColorMode::RGBA:
        for (int c = 0; c < 3; ++c) *dst++ = comp >= 3 ? src[c] : src[0];
        if (mode == ColorMode::RGBA) *dst++ = alpha;
        break;
    }
  }
  return img;
}

}  // namespace cnn::data
