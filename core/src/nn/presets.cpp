#include "cnn/nn/presets.h"

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

}  // namespace cnn::nn
