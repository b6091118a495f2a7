// Keras HDF5 files as the core sees them (an H5Group tree; see
// h5_tree_bytes.h): weights into a fixed model by order and by name, and
// whole-model files (model_config, training_config, model_weights).
#include <exception>

#include "cnn/io/keras_h5.h"
#include "cnn/nn/resnet50.h"
#include "fuzz_common.h"
#include "h5_tree_bytes.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cnnfuzz::setup_once();
  if (size < 1) return 0;
  // The mini ResNet of the fixtures: ResNet50's names, a few thousand weights.
  static std::unique_ptr<cnn::nn::Model> model = [] {
    cnn::nn::ResNet50Options o;
    o.input_shape = {32, 32, 3};
    o.classes = 5;
    return cnn::nn::resnet(cnn::nn::ResNetArchitecture{8, {2, 1, 1, 1}, {4, 8, 8, 16}}, o);
  }();
  const cnn::io::H5Group tree = cnnfuzz::tree_from_bytes(data + 1, size - 1);
  try {
    if (cnn::io::is_keras_model_file(tree)) {
      std::string meta;
      auto loaded = cnn::io::load_keras_model(tree, &meta);
      (void)loaded->summary();
    } else {
      cnn::io::load_keras_weights(*model, tree,
                                  {.by_name = (data[0] & 1) != 0, .allow_missing = (data[0] & 2) != 0});
    }
  } catch (const std::exception&) {
  }
  return 0;
}
