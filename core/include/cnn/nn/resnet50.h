// keras.applications.ResNet50, layer for layer: the same layer names, order,
// shapes and random initialisation, so Keras's weight files load by order.
#pragma once

#include <array>
#include <memory>
#include <string>

#include "cnn/nn/model.h"

namespace cnn::nn {

struct ResNet50Options {
  bool include_top = true;            // avg_pool + Dense(classes) named "predictions"
  Shape input_shape = {224, 224, 3};  // (H, W, C); H and W at least 32, as Keras requires
  int64_t classes = 1000;             // include_top only
  std::string pooling = "";           // without the top: "" (4D output), "avg" or "max"
  std::string classifier_activation = "softmax";
  uint64_t seed = 0;
};

// The layout of a Keras ResNet v1 with bottleneck blocks: a 7x7/2 stem of
// `stem_filters`, then four stages of `blocks[i]` blocks of `filters[i]`
// (the block's expansion convs have 4x that). ResNet50 is the default;
// smaller ones keep its structure and layer names (tests, quick runs).
struct ResNetArchitecture {
  int64_t stem_filters = 64;
  std::array<int, 4> blocks = {3, 4, 6, 3};
  std::array<int64_t, 4> filters = {64, 128, 256, 512};
};

// 25,636,712 parameters with the top (1000 classes, 224x224x3), 23,587,712
// without. Throws ValueError naming a bad option.
// The model asks for Keras's 'caffe' preprocess_input (Model::preprocessing).
std::unique_ptr<Model> resnet50(const ResNet50Options& opt = {});
// Any ResNetArchitecture, named `name`.
std::unique_ptr<Model> resnet(const ResNetArchitecture& arch, const ResNet50Options& opt = {},
                              const std::string& name = "resnet");

// The epsilon of every BatchNormalization in keras.applications' ResNets.
inline constexpr float kResNetBatchNormEpsilon = 1.001e-5f;

}  // namespace cnn::nn
