// Inference fusion: Conv2D -> BatchNormalization [-> Add] [-> ReLU] as one
// conv whose output pass applies the batch norm's affine map, the shortcut
// and the ReLU (ops::conv2d_inference). A ResNet50 block's output then costs
// its GEMMs and one pass per conv, instead of up to four extra passes over
// memory. Only structure is found here; whether a call may fuse is decided
// per call, so training and gradients always see every layer.
#include "cnn/autograd.h"
#include "cnn/nn/layers.h"
#include "cnn/nn/model.h"

namespace cnn::nn {

void Model::find_conv_chains() {
  chains_.clear();
  chain_at_.assign(nodes_.size(), -1);
  // consumers[j]: every (node, edge) reading node j.
  std::vector<std::vector<int>> consumers(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i)
    for (int j : nodes_[i].inbound) consumers[j].push_back(static_cast<int>(i));
  const auto only_consumer = [&](int j) { return consumers[j].size() == 1 ? consumers[j][0] : -1; };
  const auto is_relu = [&](int j) {
    auto* a = dynamic_cast<Activation*>(nodes_[j].layer.get());
    return a && a->activation_name() == "relu";
  };

  for (size_t i = 0; i < nodes_.size(); ++i) {
    auto* conv = dynamic_cast<Conv2D*>(nodes_[i].layer.get());
    if (!conv || conv->options().activation != "linear") continue;
    ConvChain c;
    c.conv = static_cast<int>(i);
    c.bn = only_consumer(c.conv);
    if (c.bn < 0 || !dynamic_cast<BatchNormalization*>(nodes_[c.bn].layer.get())) continue;
    int next = only_consumer(c.bn);
    if (next >= 0 && dynamic_cast<Add*>(nodes_[next].layer.get()) && nodes_[next].inbound.size() == 2) {
      const std::vector<int>& in = nodes_[next].inbound;
      const int other = in[0] == c.bn ? in[1] : in[0];
      if (other != c.bn) {
        c.add = next;
        c.residual = other;
        next = only_consumer(c.add);
      }
    }
    if (next >= 0 && is_relu(next)) c.relu = next;
    chain_at_[i] = static_cast<int>(chains_.size());
    chains_.push_back(c);
  }
}

bool Model::run_conv_chain(ConvChain& c, std::vector<Tensor>& values, const CallContext& ctx,
                           const std::vector<bool>& pinned, bool skip_final_activation) const {
  auto& conv = static_cast<Conv2D&>(*nodes_[c.conv].layer);
  auto& bn = static_cast<BatchNormalization&>(*nodes_[c.bn].layer);
  if (!bn.uses_moving_statistics(ctx)) return false;
  // Every value but the last must be free to skip: not an output, not asked for.
  for (int n : {c.conv, c.bn, c.add})
    if (n >= 0 && pinned[n]) return false;
  if (c.relu >= 0 && skip_final_activation && pinned[c.relu]) return false;  // the loss wants pre-activations
  const Tensor& x = values[nodes_[c.conv].inbound[0]];
  const Tensor residual = c.residual >= 0 ? values[c.residual] : Tensor();
  if (c.residual >= 0 && !residual.defined()) c.add = c.residual = c.relu = -1;  // the shortcut comes later
  const int last = c.relu >= 0 ? c.relu : c.add >= 0 ? c.add : c.bn;
  if (grad_enabled()) {
    std::vector<Tensor> inputs{x, residual};
    for (const Weight& w : conv.weights()) inputs.push_back(w.value);
    if (any_requires_grad(inputs) || bn.any_weight_requires_grad()) return false;
  }
  ops::ConvEpilogue ep;
  ops::BatchNormAffine affine = bn.inference_affine();
  ep.scale = affine.scale;
  ep.shift = affine.shift;
  ep.residual = residual;
  ep.relu = c.relu >= 0;
  const Tensor bias = conv.options().use_bias ? conv.weights()[1].value : Tensor();
  values[last] = ops::conv2d_inference(x, conv.weights()[0].value, bias, conv.op_options(), ep);
  return true;
}

}  // namespace cnn::nn
