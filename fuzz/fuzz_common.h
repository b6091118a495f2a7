// What every fuzz target shares: a memory budget (the engine must refuse
// what it cannot hold, never exhaust the process) and one thread (the
// fuzzer's executions per second, not the pool, are the point).
#pragma once

#include <cstddef>
#include <cstdint>

#include "cnn/memory.h"
#include "cnn/parallel.h"

namespace cnnfuzz {

inline void setup_once() {
  static const bool done = [] {
    cnn::set_memory_budget(size_t{512} << 20);
    cnn::set_num_threads(1);
    return true;
  }();
  (void)done;
}

}  // namespace cnnfuzz
