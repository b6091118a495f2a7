#include <algorithm>
#include <cstring>
#include <numeric>

#include "cnn/error.h"
#include "cnn/parallel.h"
#include "cnn/rng.h"
#include "cnn/train/fit.h"

namespace cnn::train {

Tensor take_rows(const Tensor& t, int64_t begin, int64_t end, const std::vector<int64_t>* order) {
  Shape s = t.shape();
  const int64_t row = s.empty() || s[0] == 0 ? 0 : t.numel() / s[0];
  s[0] = end - begin;
  Tensor out = Tensor::empty(s);  // every row copied below
  float* dst = out.data();
  const float* from = t.data();
  // Rows of images are large: copied across threads.
  parallel_for(end - begin, std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(1, row)),
               [=](int64_t r0, int64_t r1) {
                 for (int64_t r = r0; r < r1; ++r) {
                   const int64_t src = order ? (*order)[begin + r] : begin + r;
                   std::memcpy(dst + r * row, from + src * row, static_cast<size_t>(row) * sizeof(float));
                 }
               });
  return out;
}

ArrayDataset::ArrayDataset(Tensor x, Tensor y, int64_t batch_size, bool shuffle, uint64_t seed)
    : x_(std::move(x)), y_(std::move(y)), batch_size_(batch_size), shuffle_(shuffle), seed_(seed) {
  if (!x_.defined() || !y_.defined()) throw ValueError("fit: x and y must both be given");
  if (x_.ndim() < 1 || y_.ndim() < 1 || x_.dim(0) != y_.dim(0))
    throw ShapeError("fit: x has shape " + shape_str(x_.shape()) + " and y has shape " +
                     shape_str(y_.shape()) + ", expected the same number of samples (axis 0)");
  if (batch_size_ < 1) throw ValueError(str_cat("fit: batch_size must be >= 1, got ", batch_size_));
  order_.resize(static_cast<size_t>(x_.dim(0)));
  std::iota(order_.begin(), order_.end(), 0);
}

int64_t ArrayDataset::num_batches() const { return (num_samples() + batch_size_ - 1) / batch_size_; }

void ArrayDataset::on_epoch_begin(int epoch) {
  std::iota(order_.begin(), order_.end(), 0);
  if (shuffle_) {
    Rng rng(seed_ * 1000003ull + static_cast<uint64_t>(epoch) + 17);
    rng.shuffle(order_);
  }
}

std::pair<Tensor, Tensor> ArrayDataset::batch(int64_t index) {
  const int64_t b = index * batch_size_, e = std::min(b + batch_size_, num_samples());
  if (index < 0 || b >= num_samples())
    throw ValueError(str_cat("dataset: batch ", index, " out of range, expected < ", num_batches()));
  return {take_rows(x_, b, e, &order_), take_rows(y_, b, e, &order_)};
}

}  // namespace cnn::train
