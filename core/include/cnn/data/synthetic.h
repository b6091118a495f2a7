// A generated, learnable image-classification task, the same on every
// platform for a seed: tests, benchmarks and the playground's sample data.
// Each class is a fixed random blob-and-stroke template; every image is its
// class's template, randomly shifted, scaled in contrast and with noise.
#pragma once

#include <cstdint>

#include "cnn/tensor.h"

namespace cnn::data {

struct SyntheticTask {
  Tensor x;  // (N, H, W, C), values in [0, 1]
  Tensor y;  // (N,) class indices as floats
};

struct SyntheticOptions {
  int64_t samples = 1000;
  int64_t height = 28, width = 28, channels = 1;
  int64_t classes = 10;
  float noise = 0.15f;  // stddev of the added Gaussian noise
  uint64_t seed = 0;    // the class templates depend on this too
};

SyntheticTask make_synthetic_task(const SyntheticOptions& opt);

}  // namespace cnn::data
