#include "cnn/autograd.h"

#include <unordered_set>

#include "backend/backend.h"
#include "cnn/error.h"
#include "cnn/parallel.h"

namespace cnn {

namespace {
thread_local bool g_grad_enabled = true;
}

bool grad_enabled() { return g_grad_enabled; }

NoGradGuard::NoGradGuard() : prev_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = prev_; }

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

void record(Tensor& out, const char* op, std::vector<Tensor> inputs, BackwardFn fn) {
  if (!any_requires_grad(inputs)) return;
  auto node = std::make_shared<Node>();
  node->op = op;
  node->inputs = std::move(inputs);
  node->backward = std::move(fn);
  out.impl()->requires_grad = true;
  out.impl()->grad_fn = std::move(node);
}

void accumulate(float* out, const float* in, int64_t n) {
  parallel_elementwise(n, [out, in](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[i] += in[i];
  });
}

void Tensor::backward() const {
  if (!defined()) throw ValueError("backward: called on an undefined tensor");
  if (numel() != 1) throw ShapeError("backward: the loss must be a scalar, got shape " + shape_str(shape()));
  if (!requires_grad())
    throw ValueError("backward: the loss does not depend on any tensor that requires grad");

  // Iterative post-order DFS gives a topological order (inputs before outputs)
  // without recursion, so deep networks cannot overflow the stack.
  std::vector<Tensor> order;
  std::unordered_set<TensorImpl*> seen;
  std::vector<std::pair<Tensor, size_t>> stack;
  stack.emplace_back(*this, 0);
  seen.insert(impl());
  while (!stack.empty()) {
    auto& [t, next] = stack.back();
    Node* node = t.impl()->grad_fn.get();
    if (node && next < node->inputs.size()) {
      const Tensor& in = node->inputs[next++];
      if (in.defined() && in.requires_grad() && seen.insert(in.impl()).second) stack.emplace_back(in, 0);
    } else {
      order.push_back(t);
      stack.pop_back();
    }
  }

  // dL/dL = 1, added where the loss lives.
  const Tensor one = Tensor(Shape{}, 1.0f).to(device());
  backend::backend(device()).accumulate(device_grad(), one.device_data(), 1);
  for (size_t i = order.size(); i-- > 0;) {
    Tensor& t = order[i];
    Node* node = t.impl()->grad_fn.get();
    if (!node || !t.has_grad()) continue;
    node->backward(t, t.impl()->grad->data());
    // An intermediate's gradient is spent once passed on; dropping it frees
    // memory and keeps a second backward() over the same graph from counting
    // it twice. Leaves (parameters, inputs) keep accumulating.
    t.impl()->grad.reset();
  }
}

}  // namespace cnn
