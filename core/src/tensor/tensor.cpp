#include "cnn/tensor.h"

#include <cstdlib>
#include <cstring>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <new>

#include "backend/backend.h"
#include "cnn/error.h"
#include "cnn/memory.h"

namespace cnn {

std::string shape_str(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += shape[i] < 0 ? std::string("None") : std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

bool checked_shape_numel(const Shape& shape, int64_t* n) {
  int64_t product = 1;
  for (int64_t d : shape)
    if (d < 0 || __builtin_mul_overflow(product, d, &product)) return false;
  *n = product;
  return true;
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

namespace {
// glibc hands out blocks above its mmap threshold (at most 32 MiB) as fresh
// mappings and unmaps them on free, so every training step would fault in
// (and zero) its large activations and gradients again. Keeping them in the
// heap lets the next step reuse the same memory.
void keep_large_blocks_in_heap() {
#ifdef __GLIBC__
  static const bool once = [] {
    mallopt(M_MMAP_THRESHOLD, 512 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
    return true;
  }();
  (void)once;
#endif
}
}  // namespace

// 64-byte alignment: a full cache line, and enough for AVX-512 loads.
Storage::Storage(size_t n, bool zero, Device device) : n_(n), device_(device) {
  if (static_cast<uint64_t>(n) > kMaxTensorElements)
    throw ResourceError(
        str_cat("a tensor of ", n, " values is larger than this engine allows (", kMaxTensorElements, ")"));
  size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
  if (bytes == 0) bytes = 64;
  if (device != Device::CPU) {
    const backend::Backend& be = backend::backend(device);
    data_ = be.allocate(bytes);
    bytes_ = bytes;
    if (zero) be.fill(data_, bytes / sizeof(float), 0.0f);
    return;
  }
  keep_large_blocks_in_heap();
  detail::reserve_tensor_bytes(bytes, "a tensor of " + std::to_string(n) + " values");
  data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (!data_) {
    detail::release_tensor_bytes(bytes);
    throw ResourceError("out of memory: a tensor of " + human_bytes(static_cast<double>(bytes)) +
                        " could not be allocated");
  }
  bytes_ = bytes;
  if (zero) backend::cpu_backend().fill(data_, bytes / sizeof(float), 0.0f);
}

Storage::~Storage() {
  if (device_ != Device::CPU) {
    backend::backend(device_).release(data_, bytes_);
    return;
  }
  std::free(data_);
  detail::release_tensor_bytes(bytes_);
}

// Also rejects shapes whose element count would overflow (a corrupt file's, say).
static void check_shape(const Shape& shape) {
  for (int64_t d : shape)
    if (d < 0) throw ShapeError("Tensor: negative dimension in shape " + shape_str(shape));
  int64_t n = 0;
  if (!checked_shape_numel(shape, &n) || static_cast<uint64_t>(n) > kMaxTensorElements)
    throw ResourceError("Tensor: shape " + shape_str(shape) + " has more values than this engine allows");
}

Tensor::Tensor(const Shape& shape) : impl_(std::make_shared<TensorImpl>()) {
  check_shape(shape);
  impl_->shape = shape;
  impl_->strides = contiguous_strides(shape);
  impl_->storage = std::make_shared<Storage>(static_cast<size_t>(shape_numel(shape)));
}

Tensor Tensor::empty(const Shape& shape, Device device) {
  check_shape(shape);
  Tensor t;
  t.impl_ = std::make_shared<TensorImpl>();
  t.impl_->shape = shape;
  t.impl_->strides = contiguous_strides(shape);
  t.impl_->storage = std::make_shared<Storage>(static_cast<size_t>(shape_numel(shape)), false, device);
  return t;
}

Tensor Tensor::zeros(const Shape& shape, Device device) {
  Tensor t = empty(shape, device);
  t.fill(0.0f);
  return t;
}

Tensor::Tensor(const Shape& shape, float fill_value) : Tensor(shape) { fill(fill_value); }

Tensor::Tensor(const Shape& shape, const std::vector<float>& values) : Tensor(shape) {
  if (static_cast<int64_t>(values.size()) != numel())
    throw ShapeError(str_cat("Tensor: ", values.size(), " values given for shape ", shape_str(shape),
                             ", expected ", numel()));
  std::memcpy(data(), values.data(), values.size() * sizeof(float));
}

static const TensorImpl& checked(const std::shared_ptr<TensorImpl>& impl) {
  if (!impl) throw ValueError("Tensor: use of an undefined (empty) tensor");
  return *impl;
}

const Shape& Tensor::shape() const { return checked(impl_).shape; }
const Shape& Tensor::strides() const { return checked(impl_).strides; }
int64_t Tensor::numel() const { return shape_numel(shape()); }

int64_t Tensor::dim(int i) const {
  const Shape& s = shape();
  int n = static_cast<int>(s.size());
  if (i < -n || i >= n)
    throw ShapeError(str_cat("Tensor::dim: axis ", i, " out of range for shape ", shape_str(s)));
  return s[i < 0 ? i + n : i];
}

namespace {
Tensor to_device_copy(const Tensor& src, Device d) {
  Tensor out = Tensor::empty(src.shape(), d);
  out.copy_from(src);
  return out;
}
}  // namespace

Device Tensor::device() const { return checked(impl_).storage->device(); }

namespace {
const TensorImpl& on_host(const std::shared_ptr<TensorImpl>& impl) {
  const TensorImpl& t = checked(impl);
  if (t.storage->device() != Device::CPU)
    throw DeviceError(
        std::string("Tensor: the values of a ") + shape_str(t.shape) + " tensor on " +
        device_name(t.storage->device()) +
        " cannot be read from the host directly; copy them with to_vector() or to(Device::CPU)");
  return t;
}
}  // namespace

float* Tensor::data() {
  const TensorImpl& t = on_host(impl_);
  return t.storage->data() + t.offset;
}
const float* Tensor::data() const {
  const TensorImpl& t = on_host(impl_);
  return t.storage->data() + t.offset;
}
float* Tensor::device_data() const {
  const TensorImpl& t = checked(impl_);
  return t.storage->data() + t.offset;
}

std::vector<float> Tensor::to_vector() const {
  std::vector<float> v(static_cast<size_t>(numel()));
  if (device() == Device::CPU)
    std::memcpy(v.data(), data(), v.size() * sizeof(float));
  else if (!v.empty())
    backend::backend(device()).download(v.data(), device_data(), v.size());
  return v;
}

Tensor Tensor::view(const Shape& new_shape) const {
  const TensorImpl& t = checked(impl_);
  Shape s = new_shape;
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      if (infer >= 0) throw ShapeError("reshape: more than one -1 in " + shape_str(new_shape));
      infer = static_cast<int>(i);
    } else if (s[i] < 0) {
      throw ShapeError("reshape: invalid dimension in " + shape_str(new_shape));
    } else {
      known *= s[i];
    }
  }
  int64_t n = shape_numel(t.shape);
  if (infer >= 0) {
    if (known == 0 || n % known != 0)
      throw ShapeError(str_cat("reshape: cannot reshape ", shape_str(t.shape), " (", n, " values) into ",
                               shape_str(new_shape)));
    s[infer] = n / known;
  }
  if (shape_numel(s) != n)
    throw ShapeError(str_cat("reshape: cannot reshape ", shape_str(t.shape), " (", n, " values) into ",
                             shape_str(new_shape), " (", shape_numel(s), " values)"));
  Tensor out;
  out.impl_ = std::make_shared<TensorImpl>();
  out.impl_->shape = s;
  out.impl_->strides = contiguous_strides(s);
  out.impl_->storage = t.storage;
  out.impl_->offset = t.offset;
  return out;
}

Tensor Tensor::clone() const { return to_device_copy(*this, device()); }

void Tensor::copy_from(const Tensor& src) {
  if (src.shape() != shape())
    throw ShapeError("Tensor::copy_from: source shape " + shape_str(src.shape()) + " does not match " +
                     shape_str(shape()));
  const size_t n = static_cast<size_t>(numel());
  if (n == 0) return;
  const Device from = src.device(), to = device();
  if (from == Device::CPU && to == Device::CPU)
    std::memcpy(data(), src.data(), n * sizeof(float));
  else if (from == to)
    backend::backend(to).copy(device_data(), src.device_data(), n);
  else if (from == Device::CPU)
    backend::backend(to).upload(device_data(), src.data(), n);
  else if (to == Device::CPU)
    backend::backend(from).download(data(), src.device_data(), n);
  else
    copy_from(src.to(Device::CPU));
}

Tensor Tensor::to(Device d) const {
  if (device() == d) return *this;
  return to_device_copy(*this, d);
}

void Tensor::fill(float v) {
  backend::backend(device()).fill(device_data(), static_cast<size_t>(numel()), v);
}

bool Tensor::requires_grad() const { return impl_ && impl_->requires_grad; }

Tensor& Tensor::set_requires_grad(bool on) {
  checked(impl_);
  impl_->requires_grad = on;
  return *this;
}

bool Tensor::has_grad() const { return impl_ && impl_->grad != nullptr; }

namespace {
// The gradient buffer, made on first use (zeroed unless `zero` is false).
std::shared_ptr<Storage>& grad_storage(const TensorImpl& impl, bool zero = true) {
  TensorImpl& t = const_cast<TensorImpl&>(impl);
  if (!t.grad)
    t.grad = std::make_shared<Storage>(static_cast<size_t>(shape_numel(t.shape)), zero, t.storage->device());
  return t.grad;
}
}  // namespace

float* Tensor::grad_data() const { return grad_storage(on_host(impl_))->data(); }

float* Tensor::grad_data_for_write(bool* fresh) const {
  const TensorImpl& t = on_host(impl_);
  *fresh = !t.grad;
  return grad_storage(t, false)->data();
}

float* Tensor::device_grad() const { return grad_storage(checked(impl_))->data(); }

Tensor Tensor::grad() const {
  const TensorImpl& t = checked(impl_);
  Tensor g;
  g.impl_ = std::make_shared<TensorImpl>();
  g.impl_->shape = t.shape;
  g.impl_->strides = contiguous_strides(t.shape);
  g.impl_->storage = grad_storage(t);
  return g;
}

void Tensor::zero_grad() {
  if (!impl_ || !impl_->grad) return;
  Storage& g = *impl_->grad;
  backend::backend(g.device()).fill(g.data(), g.size(), 0.0f);
}

void Tensor::detach_() {
  if (impl_) impl_->grad_fn.reset();
}

}  // namespace cnn
