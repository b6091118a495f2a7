// What the Keras readers share: the weights to set, checked in full before
// any is written, and the writing; and which config classes are models.
#pragma once

#include <string>
#include <vector>

#include "cnn/io/hdf5_tree.h"
#include "cnn/nn/layer.h"

namespace cnn::io {

struct WeightAssignment {
  nn::Weight* weight;
  const H5Dataset* data;
};

// Copies every assignment's values into its weight (on its device); the
// number of values copied.
int64_t apply_weight_plan(const std::vector<WeightAssignment>& plan);

// A Keras config class that is a model (one used as a layer of another).
inline bool is_model_class(const std::string& cls) {
  return cls == "Sequential" || cls == "Functional" || cls == "Model";
}

}  // namespace cnn::io
