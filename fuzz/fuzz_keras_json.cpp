// Keras model JSON (model.to_json(), Sequential or Functional): parse, build,
// summarise, write back, and run one small prediction when the model is
// small enough to run within a fuzzer's time.
#include <exception>
#include <string>

#include "cnn/io/keras_json.h"
#include "cnn/nn/model.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cnnfuzz::setup_once();
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    auto model = cnn::io::model_from_json(text, 1);
    (void)model->summary();
    auto again = cnn::io::model_from_json(cnn::io::model_to_json(*model), 1);
    if (again->count_params() != model->count_params()) __builtin_trap();  // the round trip lost something
    const auto names = model->input_names();
    if (names.size() == 1 && model->count_params() < 200000) {
      cnn::Shape in = model->input_shape();
      in[0] = 1;
      if (cnn::shape_numel(in) > 0 && cnn::shape_numel(in) < 50000) (void)model->predict(cnn::Tensor(in));
    }
  } catch (const std::exception&) {
  }
  return 0;
}
