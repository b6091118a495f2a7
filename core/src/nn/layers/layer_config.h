// Helpers shared by the layers' Keras config writers (private to core/src).
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <string>

#include "cnn/nn/layer.h"
#include "io/python_json.h"

namespace cnn::nn {

// The keys every Keras layer config starts with.
inline nlohmann::ordered_json base_config(const Layer& l) {
  return {{"name", l.name()}, {"trainable", l.trainable()}, {"dtype", "float32"}};
}

inline nlohmann::ordered_json pair_json(const std::array<int64_t, 2>& a) { return {a[0], a[1]}; }

// Keras initializer names map to these class names in serialised configs.
inline nlohmann::ordered_json initializer_json(const std::string& name) {
  static const std::pair<const char*, const char*> table[] = {{"glorot_uniform", "GlorotUniform"},
                                                              {"glorot_normal", "GlorotNormal"},
                                                              {"he_uniform", "HeUniform"},
                                                              {"he_normal", "HeNormal"},
                                                              {"lecun_uniform", "LecunUniform"},
                                                              {"lecun_normal", "LecunNormal"},
                                                              {"zeros", "Zeros"},
                                                              {"ones", "Ones"}};
  for (auto& [n, cls] : table)
    if (name == n) {
      nlohmann::ordered_json cfg = nlohmann::ordered_json::object();
      if (name != "zeros" && name != "ones") cfg["seed"] = nullptr;
      return {{"class_name", cls}, {"config", cfg}};
    }
  return {{"class_name", name}, {"config", nlohmann::ordered_json::object()}};
}

// Input shapes to a single-input layer, or a ShapeError naming the layer.
const Shape& single_input(const std::string& who, const std::vector<Shape>& in);

}  // namespace cnn::nn
