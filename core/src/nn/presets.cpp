#include "cnn/nn/presets.h"

#include "cnn/error.h"
#include "cnn/nn/layers.h"

namespace cnn::nn {

std::unique_ptr<Sequential> lenet(const Shape& input_shape, int64_t classes, uint64_t seed) {
  Conv2DOptions c1;
  c1.filters = 6;
  c1.kernel_size = {5, 5};
  c1.padding = "same";
  c1.activation = "relu";
  Conv2DOptions c2 = c1;
  c2.filters = 16;
  c2.padding = "valid";
  return std::make_unique<Sequential>(
      std::vector<LayerPtr>{std::make_shared<InputLayer>(input_shape), std::make_shared<Conv2D>(c1),
                            std::make_shared<AveragePooling2D>(), std::make_shared<Conv2D>(c2),
                            std::make_shared<AveragePooling2D>(), std::make_shared<Flatten>(),
                            std::make_shared<Dense>(DenseOptions{120, "relu"}),
                            std::make_shared<Dense>(DenseOptions{84, "relu"}),
                            std::make_shared<Dense>(DenseOptions{classes, "softmax"})},
      "sequential", seed);
}

std::unique_ptr<Sequential> course_cnn(const Shape& input_shape, int64_t classes, uint64_t seed) {
  std::vector<LayerPtr> layers{std::make_shared<InputLayer>(input_shape)};
  for (int64_t filters : {16, 32, 64}) {
    Conv2DOptions c;
    c.filters = filters;
    c.kernel_size = {3, 3};
    c.activation = "relu";
    layers.push_back(std::make_shared<Conv2D>(c));
    layers.push_back(std::make_shared<MaxPooling2D>());
  }
  layers.push_back(std::make_shared<Flatten>());
  layers.push_back(std::make_shared<Dense>(DenseOptions{classes, "softmax"}));
  return std::make_unique<Sequential>(std::move(layers), "sequential", seed);
}

std::unique_ptr<Model> stack_on(const Model& backbone, const std::vector<LayerPtr>& head,
                                const std::string& name, uint64_t seed) {
  Model::Symbolic g = backbone.symbolic();
  if (g.inputs.size() != 1 || g.outputs.size() != 1)
    throw ValueError("stacking layers on model '" + backbone.name() +
                     "': it must have one input and one output");
  KerasTensor x = g.outputs[0];
  for (const LayerPtr& layer : head) x = apply_layer(layer, x);
  auto model = std::make_unique<Model>(g.inputs, std::vector<KerasTensor>{x}, name, seed);
  model->set_preprocessing(backbone.preprocessing());
  // Saved as Keras saves Sequential([backbone, ...head]): the backbone one layer.
  NestedModel nested{backbone.name(), backbone.input_names()[0], {}, false};
  for (const LayerPtr& l : backbone.layers())
    if (l->class_name() != "InputLayer") nested.layers.push_back(l->name());
  model->set_nested(std::move(nested));
  return model;
}

std::unique_ptr<Model> classifier_on(const Model& backbone, int64_t classes, uint64_t seed) {
  if (classes < 1)
    throw ValueError("classifier_on: classes must be at least 1, got " + std::to_string(classes));
  const Shape& out = backbone.output_shape();
  std::vector<LayerPtr> head;
  if (out.size() == 4)
    head.push_back(std::make_shared<GlobalAveragePooling2D>());
  else if (out.size() != 2)
    throw ValueError("classifier_on: the backbone's output " + shape_str(out) +
                     " is neither feature maps (None, H, W, C) nor pooled features (None, C)");
  head.push_back(std::make_shared<Dense>(DenseOptions{classes, "softmax"}));
  return stack_on(backbone, head, "sequential", seed);
}

}  // namespace cnn::nn
