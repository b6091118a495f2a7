// Private: the one dispatch point between the ops and the devices. A Backend
// is a table of everything device-specific: memory, copies, the ops of
// cnn/ops.h for tensors on its device, and the optimizers' update steps.
// ops::conv2d and its kin (ops/dispatch.cpp) pick the table of their inputs'
// device; the CPU table is built from the SIMD/threaded kernels in ops/,
// the CUDA table (cuda/) from cuBLAS and the engine's own CUDA kernels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "cnn/device.h"
#include "cnn/ops.h"

namespace cnn::backend {

struct Backend {
  Device device;

  // Memory: bytes of device memory (64-byte aligned or better), released
  // with the same size. Throws ResourceError when the device is out of memory.
  float* (*allocate)(size_t bytes);
  void (*release)(float* p, size_t bytes);
  void (*upload)(float* dst, const float* host, size_t n);    // host -> device
  void (*download)(float* host, const float* src, size_t n);  // device -> host
  void (*copy)(float* dst, const float* src, size_t n);       // within the device
  void (*fill)(float* p, size_t n, float v);
  void (*accumulate)(float* out, const float* in, int64_t n);  // out += in

  // The ops of cnn/ops.h, for inputs on this device (same signatures).
  decltype(&ops::conv2d) conv2d;
  decltype(&ops::conv2d_inference) conv2d_inference;
  decltype(&ops::max_pool2d) max_pool2d;
  decltype(&ops::avg_pool2d) avg_pool2d;
  decltype(&ops::global_avg_pool2d) global_avg_pool2d;
  decltype(&ops::global_max_pool2d) global_max_pool2d;
  decltype(&ops::dense) dense;
  decltype(&ops::zero_padding2d) zero_padding2d;
  decltype(&ops::add) add;
  decltype(&ops::concat) concat;
  decltype(&ops::sum_product) sum_product;
  decltype(&ops::scale_shift) scale_shift;
  decltype(&ops::relu) relu;
  decltype(&ops::sigmoid) sigmoid;
  decltype(&ops::tanh) tanh;
  decltype(&ops::softmax) softmax;
  decltype(&ops::batch_norm) batch_norm;
  decltype(&ops::batch_norm_affine) batch_norm_affine;
  decltype(&ops::dropout) dropout;
  decltype(&ops::sparse_categorical_crossentropy) sparse_categorical_crossentropy;
  decltype(&ops::categorical_crossentropy) categorical_crossentropy;
  decltype(&ops::binary_crossentropy) binary_crossentropy;
  decltype(&ops::mean_squared_error) mean_squared_error;
  decltype(&ops::sparse_categorical_accuracy) sparse_categorical_accuracy;
  decltype(&ops::categorical_accuracy) categorical_accuracy;
  decltype(&ops::binary_accuracy) binary_accuracy;

  // Optimizer steps over n values (see optim/optimizer.h for the rules).
  void (*sgd_step)(float* w, const float* g, int64_t n, float lr);
  void (*sgd_momentum_step)(float* w, const float* g, float* m, int64_t n, float lr, float momentum,
                            bool nesterov);
  void (*adam_step)(float* w, const float* g, float* m, float* v, int64_t n, float alpha, float a1, float a2,
                    float eps);
};

// The table of `d`; throws DeviceError when `d` is not available here.
const Backend& backend(Device d);

// The device an op's tensors share (undefined ones are skipped); throws
// DeviceError naming the op when they are on different devices.
Device common_device(const char* op, std::initializer_list<const Tensor*> tensors);

extern const Backend kCpuBackend;
#if CNN_HAVE_CUDA
// Null when the build has CUDA but this machine has no usable GPU; `why`
// then says what the CUDA runtime reported.
const Backend* cuda_backend(std::string* why);
#endif

}  // namespace cnn::backend
