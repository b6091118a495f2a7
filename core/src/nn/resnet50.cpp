#include "cnn/nn/resnet50.h"

#include "cnn/error.h"
#include "cnn/nn/layers.h"

namespace cnn::nn {
namespace {

KerasTensor conv(const KerasTensor& x, int64_t filters, int64_t kernel, int64_t stride,
                 const std::string& padding, const std::string& name) {
  Conv2DOptions c;
  c.filters = filters;
  c.kernel_size = {kernel, kernel};
  c.strides = {stride, stride};
  c.padding = padding;
  return apply_layer(std::make_shared<Conv2D>(c, name), x);
}

KerasTensor batch_norm(const KerasTensor& x, const std::string& name) {
  BatchNormOptions bn;
  bn.epsilon = kResNetBatchNormEpsilon;
  return apply_layer(std::make_shared<BatchNormalization>(bn, name), x);
}

KerasTensor relu(const KerasTensor& x, const std::string& name) {
  return apply_layer(std::make_shared<Activation>("relu", name), x);
}

// Keras's block1: a bottleneck residual block. The shortcut is built first,
// as in Keras, which fixes the order of equal-depth layers (and so the order
// of weights in Keras's files).
KerasTensor bottleneck(const KerasTensor& x, int64_t filters, int64_t stride, bool conv_shortcut,
                       const std::string& name) {
  KerasTensor shortcut = x;
  if (conv_shortcut)
    shortcut = batch_norm(conv(x, 4 * filters, 1, stride, "valid", name + "_0_conv"), name + "_0_bn");
  KerasTensor y = relu(batch_norm(conv(x, filters, 1, stride, "valid", name + "_1_conv"), name + "_1_bn"),
                       name + "_1_relu");
  y = relu(batch_norm(conv(y, filters, 3, 1, "same", name + "_2_conv"), name + "_2_bn"), name + "_2_relu");
  y = batch_norm(conv(y, 4 * filters, 1, 1, "valid", name + "_3_conv"), name + "_3_bn");
  y = apply_layer(std::make_shared<Add>(name + "_add"), std::vector<KerasTensor>{shortcut, y});
  return relu(y, name + "_out");
}

// Keras's stack1: `blocks` bottlenecks, the first with a projection shortcut.
KerasTensor stage(KerasTensor x, int64_t filters, int blocks, int64_t first_stride, const std::string& name) {
  x = bottleneck(x, filters, first_stride, true, name + "_block1");
  for (int i = 2; i <= blocks; ++i) x = bottleneck(x, filters, 1, false, name + "_block" + std::to_string(i));
  return x;
}

}  // namespace

std::unique_ptr<Model> resnet50(const ResNet50Options& opt) { return resnet({}, opt, "resnet50"); }

std::unique_ptr<Model> resnet(const ResNetArchitecture& arch, const ResNet50Options& opt,
                              const std::string& name) {
  for (int i = 0; i < 4; ++i)
    if (arch.blocks[i] < 1 || arch.filters[i] < 1)
      throw ValueError(str_cat("ResNet: stage ", i + 2,
                               " needs at least one block of at least one filter, got ", arch.blocks[i],
                               " block(s) of ", arch.filters[i]));
  if (arch.stem_filters < 1) throw ValueError("ResNet: stem_filters must be at least 1");
  const Shape& s = opt.input_shape;
  if (s.size() != 3 || s[0] < 32 || s[1] < 32 || s[2] < 1)
    throw ValueError(
        "ResNet50: input_shape must be (height, width, channels) with height and width at least 32, got " +
        shape_str(s));
  if (opt.include_top && opt.classes < 1)
    throw ValueError("ResNet50: classes must be at least 1 with include_top, got " +
                     std::to_string(opt.classes));
  if (!opt.include_top && !opt.pooling.empty() && opt.pooling != "avg" && opt.pooling != "max")
    throw ValueError("ResNet50: pooling must be none, 'avg' or 'max', got '" + opt.pooling + "'");

  KerasTensor input = Input(s, "input_1");
  KerasTensor x = apply_layer(
      std::make_shared<ZeroPadding2D>(std::array<std::array<int64_t, 2>, 2>{{{3, 3}, {3, 3}}}, "conv1_pad"),
      input);
  x = relu(batch_norm(conv(x, arch.stem_filters, 7, 2, "valid", "conv1_conv"), "conv1_bn"), "conv1_relu");
  x = apply_layer(
      std::make_shared<ZeroPadding2D>(std::array<std::array<int64_t, 2>, 2>{{{1, 1}, {1, 1}}}, "pool1_pad"),
      x);
  x = apply_layer(std::make_shared<MaxPooling2D>(Pool2DOptions{{3, 3}, {2, 2}, "valid"}, "pool1_pool"), x);
  for (int i = 0; i < 4; ++i)
    x = stage(x, arch.filters[i], arch.blocks[i], i == 0 ? 1 : 2, "conv" + std::to_string(i + 2));

  if (opt.include_top) {
    x = apply_layer(std::make_shared<GlobalAveragePooling2D>("avg_pool"), x);
    DenseOptions d;
    d.units = opt.classes;
    d.activation = opt.classifier_activation;
    x = apply_layer(std::make_shared<Dense>(d, "predictions"), x);
  } else if (opt.pooling == "avg") {
    x = apply_layer(std::make_shared<GlobalAveragePooling2D>("avg_pool"), x);
  } else if (opt.pooling == "max") {
    x = apply_layer(std::make_shared<GlobalMaxPooling2D>("max_pool"), x);
  }
  auto model =
      std::make_unique<Model>(std::vector<KerasTensor>{input}, std::vector<KerasTensor>{x}, name, opt.seed);
  model->set_preprocessing("caffe");  // how keras.applications' ResNet weights were trained
  return model;
}

}  // namespace cnn::nn
