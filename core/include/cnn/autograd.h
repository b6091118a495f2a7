// Autograd: each differentiable op records a Node on its output holding its
// inputs and a backward closure; Tensor::backward() walks the nodes in reverse
// topological order and each closure ACCUMULATES into its inputs' gradients.
// In no-grad mode (or when no input requires grad) nothing is recorded, so no
// activation is kept alive for a backward pass.
#pragma once

#include <functional>
#include <vector>

#include "cnn/tensor.h"

namespace cnn {

// Called with the op's output (values and shape) and dL/d(output). The
// output's gradient is spent once its closure has run (backward() drops it),
// so a closure may overwrite it as scratch: a fused ReLU masks it in place
// (a view of it taken with grad() before backward() sees what is left).
using BackwardFn = std::function<void(const Tensor& out, float* grad_out)>;

struct Node {
  const char* op;
  std::vector<Tensor> inputs;  // kept alive until the graph is dropped
  BackwardFn backward;
};

bool grad_enabled();

// Disables recording for its lifetime (inference, frozen backbones).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// True when grad mode is on and any of the inputs requires grad.
bool any_requires_grad(const std::vector<Tensor>& inputs);

// Attaches a backward node to `out` when any input requires grad (and grad
// mode is on); otherwise does nothing and drops `fn`.
void record(Tensor& out, const char* op, std::vector<Tensor> inputs, BackwardFn fn);

// out += in, element-wise over n floats (the accumulation every backward does).
void accumulate(float* out, const float* in, int64_t n);

}  // namespace cnn
