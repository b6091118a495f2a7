// Ready-made models the course uses.
#pragma once

#include <memory>

#include "cnn/nn/model.h"

namespace cnn::nn {

// The course's LeNet: Conv2D(6, 5, same, relu) -> AveragePooling2D(2) ->
// Conv2D(16, 5, relu) -> AveragePooling2D(2) -> Flatten -> Dense(120, relu)
// -> Dense(84, relu) -> Dense(classes, softmax). 61,706 params at 28x28x1.
std::unique_ptr<Sequential> lenet(const Shape& input_shape = {28, 28, 1}, int64_t classes = 10,
                                  uint64_t seed = 0);

// The course's small CNN for 150x150 photos: three Conv2D(16/32/64, 3, relu)
// -> MaxPooling2D(2) stages -> Flatten -> Dense(classes, softmax).
std::unique_ptr<Sequential> course_cnn(const Shape& input_shape = {150, 150, 3}, int64_t classes = 12,
                                       uint64_t seed = 0);

// Keras's Sequential([backbone, *head]) as one functional model: the head
// layers chained on the backbone's output. The backbone's layers are shared,
// not copied (freeze them with backbone.set_trainable(false)); the model asks
// for the backbone's preprocessing, and Keras's files and summary() show the
// backbone as one nested layer (Model::nested()).
std::unique_ptr<Model> stack_on(const Model& backbone, const std::vector<LayerPtr>& head,
                                const std::string& name = "sequential", uint64_t seed = 0);

// The course's transfer-learning model: `backbone` (its layers shared, not
// copied: freeze them with backbone.set_trainable(false)) followed by
// GlobalAveragePooling2D and Dense(classes, softmax). A backbone whose output
// is already pooled (rank 2) gets the Dense alone. The model asks for the
// backbone's preprocessing.
std::unique_ptr<Model> classifier_on(const Model& backbone, int64_t classes, uint64_t seed = 0);

}  // namespace cnn::nn
