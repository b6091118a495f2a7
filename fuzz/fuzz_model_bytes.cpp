// The engine's saved-model bytes (model.save() / .cnnp): load, and predict
// once when small.
#include <exception>
#include <string>

#include "cnn/io/model_bytes.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cnnfuzz::setup_once();
  try {
    std::string meta;
    auto model = cnn::io::load_model_bytes(data, size, &meta);
    if (model->input_names().size() == 1 && model->count_params() < 200000) {
      cnn::Shape in = model->input_shape();
      in[0] = 1;
      if (cnn::shape_numel(in) > 0 && cnn::shape_numel(in) < 50000) (void)model->predict(cnn::Tensor(in));
    }
  } catch (const std::exception&) {
  }
  return 0;
}
