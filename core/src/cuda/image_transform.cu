// The CUDA backend's per-image affine transforms (ops::image_transform):
// the maps are uploaded with the call; one thread per output value finds
// its taps (ops/image_sampling.h, as the CPU does) and sums them; the
// backward adds along them atomically (output pixels may share an input
// pixel).
#include <vector>

#include "cnn/autograd.h"
#include "cuda/cuda_ops.h"
#include "cuda/cuda_runtime.h"
#include "ops/image_sampling.h"

namespace cnn::ops::cuda_impl {

namespace {

struct Geometry {
  int64_t h, w, c;
  ImageFill fill;
  ImageInterpolation interpolation;
  float fill_value;
};

__global__ void transform_kernel(const float* x, const float* maps, float* y, Geometry g, int64_t n) {
  CNN_GRID_LOOP(i, n) {
    const int64_t k = i % g.c, pixel = i / g.c;
    const int64_t col = pixel % g.w, row = pixel / g.w % g.h, b = pixel / (g.w * g.h);
    const sampling::Taps t =
        sampling::taps(maps + b * 6, col, row, g.h, g.w, g.fill, g.interpolation, g.fill_value);
    const float* image = x + b * g.h * g.w * g.c;
    float v = t.fill;
    for (int j = 0; j < t.count; ++j) v += t.weight[j] * image[t.index[j] * g.c + k];
    y[i] = v;
  }
}

__global__ void transform_backward_kernel(const float* dy, const float* maps, float* dx, Geometry g,
                                          int64_t n) {
  CNN_GRID_LOOP(i, n) {
    const int64_t k = i % g.c, pixel = i / g.c;
    const int64_t col = pixel % g.w, row = pixel / g.w % g.h, b = pixel / (g.w * g.h);
    const sampling::Taps t =
        sampling::taps(maps + b * 6, col, row, g.h, g.w, g.fill, g.interpolation, g.fill_value);
    float* image = dx + b * g.h * g.w * g.c;
    for (int j = 0; j < t.count; ++j) atomicAdd(image + t.index[j] * g.c + k, t.weight[j] * dy[i]);
  }
}

}  // namespace

Tensor image_transform(const Tensor& x, const ImageTransform& t) {
  std::vector<float> host;
  for (const auto& m : t.maps) host.insert(host.end(), m.begin(), m.end());
  const Tensor maps = Tensor({static_cast<int64_t>(host.size())}, host).to(Device::CUDA);
  const Geometry g{x.dim(1), x.dim(2), x.dim(3), t.fill_mode, t.interpolation, t.fill_value};
  Tensor y = Tensor::empty(x.shape(), Device::CUDA);
  const int64_t n = y.numel();
  if (n) {
    transform_kernel<<<blocks_for(n), kThreads>>>(ptr(x), ptr(maps), ptr(y), g, n);
    check_launch("image_transform");
  }
  record(y, "image_transform", {x}, [x, maps, g](const Tensor& out, const float* dy) {
    const int64_t n = out.numel();
    if (!n) return;
    transform_backward_kernel<<<blocks_for(n), kThreads>>>(dy, ptr(maps), x.device_grad(), g, n);
    check_launch("image_transform backward");
  });
  return y;
}

}  // namespace cnn::ops::cuda_impl
