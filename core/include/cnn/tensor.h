// Tensor: float32, row-major, NHWC for images (Keras channels_last), conv
// kernels HWIO (kh, kw, in, out), dense kernels (in, out).
//
// A Tensor is a cheap handle (shared_ptr) to a TensorImpl: shape, strides in
// ELEMENTS, a 64-byte-aligned Storage that views (reshape/flatten) share, and
// the autograd fields (grad buffer, requires_grad, the node that made it).
// Its values live on one device (cnn/device.h): host code reads them with
// data() on the CPU only; to_vector() and to() work from any device.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "cnn/device.h"

namespace cnn {

using Shape = std::vector<int64_t>;

// "(2, 28, 28, 1)"; a dimension of -1 prints as None, Keras-style.
std::string shape_str(const Shape& shape);
int64_t shape_numel(const Shape& shape);
// shape_numel for shapes from untrusted input: false where a dimension is
// negative or the product overflows int64, else the product in *n.
bool checked_shape_numel(const Shape& shape, int64_t* n);

// The most values one tensor may hold (2^36, 256 GiB of floats; 2^30 in a
// 32-bit address space such as wasm's); larger shapes come only from
// corrupt input.
inline constexpr uint64_t kMaxTensorElements = sizeof(size_t) >= 8 ? uint64_t{1} << 36 : uint64_t{1} << 30;

// 64-byte-aligned float buffer on one device; owned by every view that
// shares it. Host bytes count against the memory budget (cnn/memory.h).
class Storage {
 public:
  // Zero-filled unless asked not to.
  explicit Storage(size_t n, bool zero = true, Device device = Device::CPU);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  float* data() { return data_; }  // a device pointer when device() is not the CPU
  const float* data() const { return data_; }
  size_t size() const { return n_; }
  Device device() const { return device_; }

 private:
  float* data_;
  size_t n_;
  size_t bytes_ = 0;
  Device device_;
};

struct Node;  // autograd.h

struct TensorImpl {
  Shape shape;
  Shape strides;  // in elements; always row-major contiguous in this engine
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements, into storage

  // autograd
  bool requires_grad = false;
  std::shared_ptr<Storage> grad;  // same shape as this tensor, lazily made
  std::shared_ptr<Node> grad_fn;  // the op that produced it (null for leaves)
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(const Shape& shape);  // zero-filled, on the CPU
  Tensor(const Shape& shape, float fill);
  Tensor(const Shape& shape, const std::vector<float>& values);
  static Tensor zeros(const Shape& shape, Device device = Device::CPU);
  // Values left unset: for an op's output that it writes in full (saves a
  // pass over memory per op).
  static Tensor empty(const Shape& shape, Device device = Device::CPU);

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int ndim() const { return static_cast<int>(shape().size()); }
  int64_t dim(int i) const;  // negative i counts from the end
  int64_t numel() const;
  const Shape& strides() const;

  Device device() const;
  // The values on the host; throws DeviceError for a tensor on another
  // device (read it with to_vector() or to(Device::CPU)).
  float* data();
  const float* data() const;
  // The values where they live, for backends: a device pointer off the CPU.
  float* device_data() const;
  float& operator[](int64_t i) { return data()[i]; }
  float operator[](int64_t i) const { return data()[i]; }
  std::vector<float> to_vector() const;

  // A view sharing storage (no copy); one dimension may be -1. Not recorded
  // for autograd: use ops::reshape inside a differentiable computation.
  Tensor view(const Shape& shape) const;
  Tensor clone() const;               // deep copy of the values, no autograd history
  void copy_from(const Tensor& src);  // values only, from any device; shapes must match
  // A copy on `device` with no autograd history (this tensor when already there).
  Tensor to(Device device) const;
  void fill(float v);

  // autograd
  bool requires_grad() const;
  Tensor& set_requires_grad(bool on);
  bool has_grad() const;
  Tensor grad() const;       // a view of the gradient buffer; zeros if none yet
  float* grad_data() const;  // the gradient buffer, made (zero) on first use; CPU only
  // The gradient buffer for a backward step that covers every element: on
  // first use it is made without the zero fill and *fresh is set, and the
  // step must then write (=) every element instead of adding (+=). Saves a
  // pass over the buffer and a read in the step; CPU only.
  float* grad_data_for_write(bool* fresh) const;
  float* device_grad() const;  // the same on any device, for backends
  void zero_grad();
  // Back-propagates from this scalar (numel 1) through the recorded graph;
  // gradients accumulate into every tensor that requires grad.
  void backward() const;
  // Drops the op that made this tensor, making it a leaf (frees the graph).
  void detach_();

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same_as(const Tensor& other) const { return impl_ == other.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Canonical row-major strides for a shape.
Shape contiguous_strides(const Shape& shape);

}  // namespace cnn
