// Keras 3 .keras archives: the zip's directory (zip64 included) and each
// member's checksum, then the model config.json describes, against an empty
// weights tree (a model with weights is refused by name). The input is the
// archive's bytes.
#include <exception>

#include "cnn/io/keras3.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cnnfuzz::setup_once();
  try {
    const cnn::io::Keras3Archive a = cnn::io::read_keras3_archive(data, size);
    if (a.weights_offset > size || size - a.weights_offset < a.weights_size) __builtin_trap();
    (void)cnn::io::load_keras3_model(a.config, cnn::io::H5Group{});
  } catch (const std::exception&) {
  }
  return 0;
}
