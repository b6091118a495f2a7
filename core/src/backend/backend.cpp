// Device names, availability and the choice of backend table.
#include "backend/backend.h"

#include "cnn/error.h"

namespace cnn {

const char* device_name(Device d) { return d == Device::CUDA ? "cuda" : "cpu"; }

Device parse_device(const std::string& name) {
  if (name == "cpu") return Device::CPU;
  if (name == "cuda" || name == "gpu") return Device::CUDA;
  throw ValueError("device '" + name + "' is not known, expected cpu or cuda");
}

namespace {
// The CUDA table, or null with the reason it is missing.
const backend::Backend* find_cuda(std::string* why) {
#if CNN_HAVE_CUDA
  return backend::cuda_backend(why);
#else
  if (why)
    *why =
        "this build has no CUDA backend (it was built without the CUDA toolkit; "
        "configure with nvcc on the PATH, or -DCNN_CUDA=ON)";
  return nullptr;
#endif
}
}  // namespace

bool device_available(Device d) { return d == Device::CPU || find_cuda(nullptr) != nullptr; }

std::string device_description(Device d) {
  if (d == Device::CPU) return "cpu";
  std::string why;
  return find_cuda(&why) ? why : "cuda is not available: " + why;
}

namespace backend {

const Backend& backend(Device d) {
  if (d == Device::CPU) return cpu_backend();
  if (const Backend* b = find_cuda(nullptr)) return *b;
  std::string why;
  find_cuda(&why);
  throw DeviceError("cuda is not available: " + why);
}

Device common_device(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor* t : tensors) {
    if (!t->defined()) continue;
    if (!first)
      first = t;
    else if (t->device() != first->device())
      throw DeviceError(std::string(op) + ": its inputs are on different devices (" +
                        device_name(first->device()) + " and " + device_name(t->device()) +
                        "); move the model and the data to one device (Model::to, Tensor::to)");
  }
  return first ? first->device() : Device::CPU;
}

}  // namespace backend
}  // namespace cnn
