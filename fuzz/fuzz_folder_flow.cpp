// flow_from_directory over arbitrary paths and bytes: the listing (class
// folders, extensions, the validation split), decoding, augmentation and
// one batch. Input: a flags byte, then records of u8 path length, path,
// u16 content length, content.
#include <exception>
#include <memory>

#include "cnn/data/flow.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cnnfuzz::setup_once();
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  auto files = std::make_shared<cnn::data::MemoryFiles>();
  size_t at = 1;
  while (at < size) {
    const size_t plen = data[at++];
    if (at + plen + 2 > size) break;
    std::string path(reinterpret_cast<const char*>(data + at), plen);
    at += plen;
    const size_t clen = data[at] | (data[at + 1] << 8);
    at += 2;
    const size_t n = clen < size - at ? clen : size - at;
    files->add(path, std::vector<uint8_t>(data + at, data + at + n));
    at += n;
  }
  if (flags & 0x80) files->add_folder("empty_class");
  cnn::data::FlowOptions o;
  o.target_height = 4 + (flags & 3) * 3;
  o.target_width = 4 + ((flags >> 2) & 3) * 3;
  o.batch_size = 1 + (flags & 7);
  o.validation_split = (flags & 0x10) ? 0.5 : (flags & 0x20) ? 0.2 : 0.0;
  o.subset = o.validation_split > 0
                 ? ((flags & 0x40) ? cnn::data::Subset::Validation : cnn::data::Subset::Training)
                 : cnn::data::Subset::All;
  o.class_mode = (flags & 0x40) ? cnn::data::ClassMode::Categorical : cnn::data::ClassMode::Sparse;
  o.color_mode = (flags & 0x08) ? cnn::data::ColorMode::RGB : cnn::data::ColorMode::Grayscale;
  o.memory_budget = (flags & 0x20) ? 0 : size_t{1} << 20;
  if (flags & 0x01) {
    o.augment.horizontal_flip = true;
    o.augment.rotation_range = 20;
  }
  try {
    cnn::data::ImageFlow flow(files, o);
    (void)flow.found_message();
    flow.prepare();
    if (flow.num_batches() > 0) {
      auto b = flow.batch(0);
      (void)b;
    }
  } catch (const std::exception&) {
  }
  return 0;
}
