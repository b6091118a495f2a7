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

#include <algorithm>
#include <cctype>
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

const char* interpolation_name(Interpolation i) {
  return i == Interpolation::Bilinear ? "bilinear" : "nearest";
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

// The most pixels one image may have (67 megapixels, an 8192 x 8192 photo):
// a corrupt or hostile header must not make the decoder allocate gigabytes.
constexpr int64_t kMaxPixels = int64_t{1} << 26;

// Whether a binary PNM's (P5/P6) width, height and maximum value fit an
// int: stb_image's header parser multiplies by 10 without a check, which is
// undefined behaviour past 2^31 (found by fuzzing). Nine digits always fit.
bool pnm_header_ok(const uint8_t* d, size_t n) {
  if (n < 2 || d[0] != 'P' || (d[1] != '5' && d[1] != '6')) return true;  // not a PNM stb reads
  size_t at = 2;
  for (int field = 0; field < 3 && at < n; ++field) {
    // Whitespace and comments (stb's rules: '#' to the end of the line).
    while (at < n && (std::isspace(d[at]) || d[at] == '#')) {
      if (d[at] == '#')
        while (at < n && d[at] != '\n' && d[at] != '\r') ++at;
      else
        ++at;
    }
    size_t digits = 0;
    while (at < n && d[at] >= '0' && d[at] <= '9') ++at, ++digits;
    if (digits > 9) return false;
  }
  return true;
}

// Whether every PNG chunk fits inside the file. stb_image grows its buffer
// to a chunk's declared length before reading it, so a small file claiming
// a 2 GB chunk would make it allocate 2 GB (found by fuzzing).
bool png_chunks_fit(const uint8_t* d, size_t n) {
  static const uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (n < 8 || std::memcmp(d, kSignature, 8) != 0) return true;  // not a PNG
  size_t at = 8;
  while (at + 8 <= n) {
    const size_t len = (static_cast<size_t>(d[at]) << 24) | (static_cast<size_t>(d[at + 1]) << 16) |
                       (static_cast<size_t>(d[at + 2]) << 8) | d[at + 3];
    if (len > n - at - 8) return false;
    if (std::memcmp(d + at + 4, "IEND", 4) == 0) return true;
    at += 12 + len;  // length, type, data, CRC
  }
  return true;
}

// Whether every Huffman table (DHT segment) of a JPEG holds at most the 256
// codes JPEG allows. Debian's stb_image does not check this and writes past
// its code table on such a file (found by fuzzing), so the engine checks
// before stb sees the bytes. Walks the marker segments, skipping the
// entropy-coded data between them (progressive files keep DHTs between scans).
bool jpeg_huffman_tables_ok(const uint8_t* d, size_t n) {
  // stb, like the JPEG standard, lets fill bytes (0xFF) come before SOI.
  size_t at = 0;
  while (at < n && d[at] == 0xFF) ++at;
  if (at == 0 || at >= n || d[at] != 0xD8) return true;  // not a JPEG
  ++at;
  while (at + 4 <= n) {
    if (d[at] != 0xFF) {  // entropy-coded data: find the next marker
      ++at;
      continue;
    }
    const uint8_t marker = d[at + 1];
    if (marker == 0xFF || marker == 0x00 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
      at += marker == 0xFF ? 1 : 2;  // fill byte, stuffed zero, restart marker, TEM: no length
      continue;
    }
    if (marker == 0xD9) return true;  // end of image
    const size_t len = (static_cast<size_t>(d[at + 2]) << 8) | d[at + 3];
    if (len < 2) return false;
    const size_t end = std::min(n, at + 2 + len);
    if (marker == 0xC4) {
      // As stb reads it: table after table while the segment's length is not
      // used up, even past its end (bytes past the file read as 0).
      int64_t left = static_cast<int64_t>(len) - 2;
      size_t p = at + 4;
      while (left > 0 && p < n) {
        size_t codes = 0;
        for (size_t i = 1; i <= 16; ++i) codes += p + i < n ? d[p + i] : 0;
        if (codes > 256) return false;
        p += 17 + codes;
        left -= static_cast<int64_t>(17 + codes);
      }
    }
    at = end;
  }
  return true;
}

}  // namespace

Image decode_image(const uint8_t* data, size_t size, ColorMode mode, const std::string& name) {
  if (size == 0) throw ValueError("cannot decode '" + name + "': the file is empty");
  if (is_tiff(data, size))
    throw ValueError("cannot decode '" + name +
                     "': TIFF images are not supported here; convert it to PNG or JPEG");
  if (size > static_cast<size_t>(INT32_MAX))
    throw ValueError("cannot decode '" + name + "': the file is too large");
  if (!pnm_header_ok(data, size))
    throw ValueError("cannot decode '" + name +
                     "': corrupt PGM/PPM header (a size or maximum value too large)");
  if (!png_chunks_fit(data, size))
    throw ValueError("cannot decode '" + name + "': corrupt PNG (a chunk runs past the end of the file)");
  if (!jpeg_huffman_tables_ok(data, size))
    throw ValueError("cannot decode '" + name + "': corrupt JPEG (a Huffman table has more than 256 codes)");
  int w = 0, h = 0, comp = 0;
  if (stbi_info_from_memory(data, static_cast<int>(size), &w, &h, &comp) &&
      static_cast<int64_t>(w) * h > kMaxPixels)
    throw ValueError(str_cat("cannot decode '", name, "': the image is ", w, "x", h,
                             " pixels, more than this engine decodes (", kMaxPixels, " pixels)"));
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
