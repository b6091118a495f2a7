// The CUDA backend's table, made once the first time a CUDA tensor is asked
// for, and only when a GPU answers.
#include "cuda/cuda_ops.h"
#include "cuda/cuda_runtime.h"

namespace cnn::backend {

const Backend* cuda_backend(std::string* why) {
  // Every op and every device allocation asks: the answer is kept.
  static const bool found = cuda::probe(nullptr);
  if (why) cuda::probe(why);
  if (!found) return nullptr;
  static const Backend table = [] {
    Backend b{};
    b.device = Device::CUDA;
    b.allocate = cuda::allocate;
    b.release = cuda::release;
    b.upload = cuda::upload;
    b.download = cuda::download;
    b.copy = cuda::copy;
    b.fill = cuda::fill;
    b.accumulate = cuda::accumulate;
#define CNN_CUDA_OP_ENTRY(name) b.name = ops::cuda_impl::name;
    CNN_BACKEND_OPS(CNN_CUDA_OP_ENTRY)
#undef CNN_CUDA_OP_ENTRY
    b.sgd_step = cuda::sgd_step;
    b.sgd_momentum_step = cuda::sgd_momentum_step;
    b.adam_step = cuda::adam_step;
    return b;
  }();
  return &table;
}

}  // namespace cnn::backend
