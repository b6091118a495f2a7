// Inverted dropout (Keras): in training each value is kept with probability
// 1 - rate and scaled by 1 / (1 - rate), so inference is the identity.
#include <vector>

#include "cnn/autograd.h"
#include "cnn/error.h"
#include "cnn/ops.h"
#include "cnn/rng.h"
#include "ops/cpu_ops.h"

namespace cnn::ops::cpu {

Tensor dropout(const Tensor& x, float rate, bool training, Rng& rng) {
  if (!(rate >= 0.0f && rate < 1.0f))
    throw ValueError(str_cat("dropout: rate ", rate, " is out of range, expected 0 <= rate < 1"));
  if (!training || rate == 0.0f) return x;
  const float keep_scale = 1.0f / (1.0f - rate);
  std::vector<float> mask(static_cast<size_t>(x.numel()));  // 0 or 1/(1-rate)
  Tensor y(x.shape());
  for (int64_t i = 0, n = x.numel(); i < n; ++i) {
    mask[i] = rng.uniform() >= rate ? keep_scale : 0.0f;
    y[i] = x[i] * mask[i];
  }
  record(y, "dropout", {x}, [x, mask = std::move(mask)](const Tensor&, const float* dy) {
    float* dx = x.grad_data();
    for (size_t i = 0; i < mask.size(); ++i) dx[i] += dy[i] * mask[i];
  });
  return y;
}

}  // namespace cnn::ops::cpu
