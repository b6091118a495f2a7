// The engine's memory budget: how many bytes its tensors may hold at once.
// Every tensor allocation counts against it, and one that would pass it
// throws ResourceError with the sizes, instead of the process (or a
// browser tab's wasm heap) running out. Model::fit checks its estimate
// against the budget before the first step (see train/memory_estimate.h).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace cnn {

// Not enough memory within the budget; the message says how much was asked
// for, what is in use, and what to change.
class ResourceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// 0: no budget (native default). The wasm builds start with their heap's
// limit less a reserve for everything that is not a tensor.
void set_memory_budget(size_t bytes);
size_t memory_budget();
size_t tensor_bytes_in_use();
size_t peak_tensor_bytes();  // since the start, or since reset_peak_tensor_bytes()
void reset_peak_tensor_bytes();

// "1.5 GiB", "12.0 MiB", "512 KiB"
std::string human_bytes(double bytes);

namespace detail {
// Called by Storage: reserves `bytes` or throws ResourceError naming `what`.
void reserve_tensor_bytes(size_t bytes, const std::string& what);
void release_tensor_bytes(size_t bytes);
}  // namespace detail

}  // namespace cnn
