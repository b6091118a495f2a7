#include "cnn/train/memory_estimate.h"

#include <algorithm>

#include "cnn/error.h"
#include "cnn/memory.h"

namespace cnn::train {
namespace {

// Values a layer keeps for backward besides its output (pre-activation
// values, masks, batch-norm's normalised input): about as many again.
constexpr uint64_t kKeptPerOutput = 2;
// The largest layer's transient values (im2col columns, gradients flowing
// back) when nothing is kept, e.g. in a frozen backbone.
constexpr uint64_t kTransientPerOutput = 3;

uint64_t float_bytes(int64_t n) { return static_cast<uint64_t>(std::max<int64_t>(n, 0)) * sizeof(float); }

struct PerSample {
  uint64_t kept = 0, transient = 0;
};

PerSample per_sample(const nn::Model& model) {
  const std::vector<nn::LayerPtr> layers = model.layers();
  // A layer's output is kept for backward when a trainable weight is at or
  // before it: backward must reach that weight through it.
  std::vector<bool> on_grad_path(layers.size(), false);
  PerSample p;
  uint64_t largest = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    bool trains = layers[i]->count_trainable_params() > 0;
    // Inbound layers come earlier in layers() (Keras's order is topological).
    for (const std::string& in : model.inbound_layer_names(i))
      for (size_t j = 0; j < i; ++j)
        if (layers[j]->name() == in && on_grad_path[j]) trains = true;
    on_grad_path[i] = trains;
    Shape s = model.output_shape_of(i);
    if (!s.empty()) s[0] = 1;
    const uint64_t bytes = float_bytes(shape_numel(s));
    largest = std::max(largest, bytes);
    if (trains) p.kept += kKeptPerOutput * bytes;
  }
  p.transient = kTransientPerOutput * largest;
  return p;
}

}  // namespace

MemoryEstimate estimate_training_memory(const nn::Model& model, int64_t batch, int optimizer_slots) {
  MemoryEstimate e;
  const int64_t trainable = model.count_trainable_params();
  e.weights = float_bytes(model.count_params());
  e.gradients = float_bytes(trainable);
  e.optimizer = float_bytes(trainable) * static_cast<uint64_t>(std::max(optimizer_slots, 0));
  const PerSample p = per_sample(model);
  e.activations = (p.kept + p.transient) * static_cast<uint64_t>(std::max<int64_t>(batch, 1));
  return e;
}

void check_training_fits(const nn::Model& model, int64_t batch, int optimizer_slots) {
  const uint64_t budget = memory_budget();
  if (!budget) return;
  const MemoryEstimate e = estimate_training_memory(model, batch, optimizer_slots);
  if (e.total() <= budget) return;
  const uint64_t fixed = e.weights + e.gradients + e.optimizer;
  const uint64_t per_image = e.activations / static_cast<uint64_t>(std::max<int64_t>(batch, 1));
  std::string advice;
  if (fixed >= budget) {
    advice = "the weights alone do not fit: use a smaller model";
  } else {
    const uint64_t fits = per_image ? (budget - fixed) / per_image : 0;
    advice = fits >= 1 ? str_cat("a batch size of ", fits, " or less would fit")
                       : std::string("not even one image fits: use smaller images");
    if (e.gradients > 0) advice += "; freezing layers (a pretrained backbone, say) also helps";
  }
  throw ResourceError(str_cat(
      "training '", model.name(), "' at batch size ", batch, " needs about ",
      human_bytes(static_cast<double>(e.total())), " (weights ", human_bytes(static_cast<double>(e.weights)),
      ", gradients and optimizer ", human_bytes(static_cast<double>(e.gradients + e.optimizer)),
      ", activations ", human_bytes(static_cast<double>(e.activations)), "), more than the memory budget of ",
      human_bytes(static_cast<double>(budget)), ": ", advice));
}

}  // namespace cnn::train
