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
#include <string>

#include "cnn/device.h"
#include "cnn/ops.h"

// Every op a backend implements, for X-macros: the table's members, each
// backend's declarations and its table are all made from this one list.
#define CNN_BACKEND_OPS(X)           \
  X(conv2d)                          \
  X(conv2d_inference)                \
  X(max_pool2d)                      \
  X(avg_pool2d)                      \
  X(global_avg_pool2d)               \
  X(global_max_pool2d)               \
  X(dense)                           \
  X(zero_padding2d)                  \
  X(add)                             \
  X(concat)                          \
  X(sum_product)                     \
  X(scale_shift)                     \
  X(relu)                            \
  X(sigmoid)                         \
  X(tanh)                            \
  X(softmax)                         \
  X(batch_norm)                      \
  X(batch_norm_affine)               \
  X(dropout)                         \
  X(image_transform)                 \
  X(image_levels)                    \
  X(sparse_categorical_crossentropy) \
  X(categorical_crossentropy)        \
  X(binary_crossentropy)             \
  X(mean_squared_error)              \
  X(sparse_categorical_accuracy)     \
  X(categorical_accuracy)            \
  X(binary_accuracy)

// Declares a backend's ops with exactly the types of cnn/ops.h's.
#define CNN_BACKEND_DECLARE_OP(name) decltype(::cnn::ops::name) name;

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
#define CNN_BACKEND_OP_MEMBER(name) decltype(&ops::name) name;
  CNN_BACKEND_OPS(CNN_BACKEND_OP_MEMBER)
#undef CNN_BACKEND_OP_MEMBER

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

const Backend& cpu_backend();
#if CNN_HAVE_CUDA
// Null when the build has CUDA but this machine has no usable GPU; `why`
// then says what the CUDA runtime reported.
const Backend* cuda_backend(std::string* why);
#endif

}  // namespace cnn::backend
