// How much memory training a model takes, estimated before the first step,
// so that a model or batch too large for the memory budget (cnn/memory.h)
// is refused with the figures and what to change, rather than failing
// halfway through an epoch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "cnn/nn/model.h"

namespace cnn::train {

// In 64-bit counts even in wasm's 32-bit address space: an estimate is
// most useful exactly when it is far beyond what the space can hold.
struct MemoryEstimate {
  uint64_t weights = 0;      // every weight, trainable or not
  uint64_t gradients = 0;    // one per trainable weight
  uint64_t optimizer = 0;    // the optimizer's slots (Adam: 2 per trainable weight)
  uint64_t activations = 0;  // values kept for backward, plus the largest layer's transient ones
  uint64_t total() const { return weights + gradients + optimizer + activations; }
};

// The estimate for one training step at `batch` images. `optimizer_slots`:
// floats the optimizer keeps per trainable weight (Adam 2, SGD with momentum 1).
MemoryEstimate estimate_training_memory(const nn::Model& model, int64_t batch, int optimizer_slots);

// Throws ResourceError when a memory budget is set and the estimate passes
// it, naming the parts and the largest batch that would fit.
void check_training_fits(const nn::Model& model, int64_t batch, int optimizer_slots);

}  // namespace cnn::train
