// PNG encoding (stb_image_write), for generated sample datasets.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb/stb_image_write.h>

#include "cnn/data/image.h"
#include "cnn/error.h"

namespace cnn::data {

namespace {

void check(const Image& img, const char* who) {
  if (img.channels < 1 || img.channels > 4 || img.width < 1 || img.height < 1 ||
      img.pixels.size() != static_cast<size_t>(img.width * img.height * img.channels))
    throw ValueError(std::string(who) + ": the image's size and pixel count do not agree");
}

void append(void* ctx, void* data, int size) {
  auto* v = static_cast<std::vector<uint8_t>*>(ctx);
  v->insert(v->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
}

}  // namespace

std::vector<uint8_t> encode_png(const Image& img) {
  check(img, "encode_png");
  std::vector<uint8_t> out;
  if (!stbi_write_png_to_func(append, &out, static_cast<int>(img.width), static_cast<int>(img.height),
                              static_cast<int>(img.channels), img.pixels.data(),
                              static_cast<int>(img.width * img.channels)))
    throw ValueError("encode_png: encoding failed");
  return out;
}

std::vector<uint8_t> encode_jpeg(const Image& img, int quality) {
  check(img, "encode_jpeg");
  std::vector<uint8_t> out;
  if (!stbi_write_jpg_to_func(append, &out, static_cast<int>(img.width), static_cast<int>(img.height),
                              static_cast<int>(img.channels), img.pixels.data(), quality))
    throw ValueError("encode_jpeg: encoding failed");
  return out;
}

}  // namespace cnn::data
