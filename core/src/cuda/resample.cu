// The CUDA backend's resampling by tap tables (ops::Resampling): the tables
// are made on the host and uploaded with the call; one thread per output
// value, the backward adding along the taps atomically (taps of different
// output pixels may read the same input pixel).
#include <cstring>
#include <vector>

#include "cnn/autograd.h"
#include "cnn/error.h"
#include "cuda/cuda_ops.h"
#include "cuda/cuda_runtime.h"

namespace cnn::ops::cuda_impl {

namespace {

__global__ void resample_kernel(const float* x, const int32_t* index, const float* weight, const float* fill,
                                float* y, int64_t out_pixels, int64_t in_pixels, int64_t c, int taps,
                                int64_t n) {
  CNN_GRID_LOOP(i, n) {
    const int64_t p = i / c, k = i % c;
    const float* image = x + p / out_pixels * in_pixels * c;
    float v = fill ? fill[p] : 0.0f;
    for (int t = 0; t < taps; ++t) {
      const int32_t at = index[p * taps + t];
      if (at >= 0) v += weight[p * taps + t] * image[at * c + k];
    }
    y[i] = v;
  }
}

__global__ void resample_backward_kernel(const float* dy, const int32_t* index, const float* weight,
                                         float* dx, int64_t out_pixels, int64_t in_pixels, int64_t c,
                                         int taps, int64_t n) {
  CNN_GRID_LOOP(i, n) {
    const int64_t p = i / c, k = i % c;
    float* image = dx + p / out_pixels * in_pixels * c;
    for (int t = 0; t < taps; ++t) {
      const int32_t at = index[p * taps + t];
      if (at >= 0) atomicAdd(image + at * c + k, weight[p * taps + t] * dy[i]);
    }
  }
}

// The index table in a device tensor's storage, its int32 bits kept as they are.
Tensor upload_indices(const std::vector<int32_t>& index) {
  std::vector<float> bits(index.size());
  static_assert(sizeof(float) == sizeof(int32_t));
  if (!index.empty()) std::memcpy(bits.data(), index.data(), index.size() * sizeof(int32_t));
  return Tensor({static_cast<int64_t>(bits.size())}, bits).to(Device::CUDA);
}

}  // namespace

Tensor resample(const Tensor& x, const Resampling& r) {
  const int64_t batch = x.dim(0), in_pixels = x.dim(1) * x.dim(2), c = x.dim(3);
  const int64_t out_pixels = r.out_h * r.out_w;
  const Tensor index = upload_indices(r.index);
  const Tensor weight = Tensor({static_cast<int64_t>(r.weight.size())}, r.weight).to(Device::CUDA);
  const Tensor fill =
      r.fill.empty() ? Tensor() : Tensor({static_cast<int64_t>(r.fill.size())}, r.fill).to(Device::CUDA);
  Tensor y = Tensor::empty({batch, r.out_h, r.out_w, c}, Device::CUDA);
  const int64_t n = y.numel();
  const int taps = r.taps;
  const auto* idx = reinterpret_cast<const int32_t*>(ptr(index));
  if (n) {
    resample_kernel<<<blocks_for(n), kThreads>>>(ptr(x), idx, ptr(weight), ptr(fill), ptr(y), out_pixels,
                                                 in_pixels, c, taps, n);
    check_launch("resample");
  }
  record(y, "resample", {x},
         [x, index, weight, out_pixels, in_pixels, c, taps](const Tensor& out, const float* dy) {
           const int64_t n = out.numel();
           if (!n) return;
           resample_backward_kernel<<<blocks_for(n), kThreads>>>(
               dy, reinterpret_cast<const int32_t*>(ptr(index)), ptr(weight), x.device_grad(), out_pixels,
               in_pixels, c, taps, n);
           check_launch("resample backward");
         });
  return y;
}

}  // namespace cnn::ops::cuda_impl
