// Keras model JSON reader and writer. Readers are tolerant (Keras 2.x and 3
// layouts, extra metadata keys); writers are strict (tf.keras 2.12's text).
#include "cnn/io/keras_json.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "cnn/error.h"
#include "cnn/nn/layers.h"
#include "io/python_json.h"
#include "io/weight_plan.h"
#include "nn/nested_layout.h"

namespace cnn::io {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

const char* kSupported =
    "InputLayer, Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, "
    "GlobalMaxPooling2D, Flatten, Reshape, Dense, Activation, ZeroPadding2D, "
    "BatchNormalization, Dropout, Add, Concatenate, Rescaling, RandomFlip, RandomRotation, RandomZoom, "
    "RandomTranslation, RandomContrast, RandomBrightness";

// Reads one layer's config with errors that name the layer and the key.
class ConfigReader {
 public:
  ConfigReader(std::string cls, const json& cfg) : cls_(std::move(cls)), cfg_(cfg) {
    if (!cfg_.is_object()) fail("its config is not a JSON object");
    name_ = cfg_.contains("name") && cfg_["name"].is_string() ? cfg_["name"].get<std::string>() : "";
  }
  const std::string& name() const { return name_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw ValueError("model JSON: layer '" + name_ + "' (" + cls_ + "): " + what);
  }
  bool has(const char* key) const { return cfg_.contains(key) && !cfg_[key].is_null(); }

  int64_t integer(const char* key, int64_t def) const {
    if (!has(key)) return def;
    if (!cfg_[key].is_number_integer()) fail(std::string("'") + key + "' must be an integer");
    return cfg_[key].get<int64_t>();
  }
  float number(const char* key, float def) const {
    if (!has(key)) return def;
    if (!cfg_[key].is_number()) fail(std::string("'") + key + "' must be a number");
    return cfg_[key].get<float>();
  }
  bool boolean(const char* key, bool def) const {
    if (!has(key)) return def;
    if (!cfg_[key].is_boolean()) fail(std::string("'") + key + "' must be true or false");
    return cfg_[key].get<bool>();
  }
  std::string string(const char* key, const std::string& def) const {
    if (!has(key)) return def;
    if (!cfg_[key].is_string()) fail(std::string("'") + key + "' must be a string");
    return cfg_[key].get<std::string>();
  }
  // An int or a pair [a, b] (Keras accepts both for sizes and strides).
  std::array<int64_t, 2> pair(const char* key, std::array<int64_t, 2> def) const {
    if (!has(key)) return def;
    const json& v = cfg_[key];
    if (v.is_number_integer()) return {v.get<int64_t>(), v.get<int64_t>()};
    if (v.is_array() && v.size() == 2 && v[0].is_number_integer() && v[1].is_number_integer())
      return {v[0].get<int64_t>(), v[1].get<int64_t>()};
    fail(std::string("'") + key + "' must be an integer or a pair of integers, got " + v.dump());
  }
  // Activations are strings in Keras 2 and may be objects in Keras 3.
  std::string activation(const char* key = "activation") const {
    if (!has(key)) return "linear";
    const json& v = cfg_[key];
    std::string a;
    if (v.is_string())
      a = v.get<std::string>();
    else if (v.is_object() && v.contains("config") && v["config"].is_string())
      a = v["config"].get<std::string>();
    else
      fail(std::string("'") + key + "' is not an activation name: " + v.dump());
    if (!ops::is_known_activation(a))
      fail("activation '" + a + "' is not supported, expected one of linear, relu, sigmoid, tanh, softmax");
    return a;
  }
  std::string initializer(const char* key, const std::string& def) const {
    if (!has(key)) return def;
    const json& v = cfg_[key];
    std::string cls;
    if (v.is_string())
      cls = v.get<std::string>();
    else if (v.is_object() && v.contains("class_name") && v["class_name"].is_string())
      cls = v["class_name"].get<std::string>();
    else
      fail(std::string("'") + key + "' is not an initializer: " + v.dump());
    static const std::map<std::string, std::string> names = {{"GlorotUniform", "glorot_uniform"},
                                                             {"GlorotNormal", "glorot_normal"},
                                                             {"HeUniform", "he_uniform"},
                                                             {"HeNormal", "he_normal"},
                                                             {"LecunUniform", "lecun_uniform"},
                                                             {"LecunNormal", "lecun_normal"},
                                                             {"Zeros", "zeros"},
                                                             {"Ones", "ones"}};
    auto it = names.find(cls);
    std::string n = it != names.end() ? it->second : cls;
    if (!nn::is_known_initializer(n))
      fail(std::string("initializer '") + cls + "' for '" + key + "' is not supported");
    return n;
  }
  // A factor range: one number f for [-|f|, |f|], or a pair taken in
  // order (as Keras 3 reads them; tf.keras 2 refused what Keras 3 mends).
  nn::FactorRange factor(const char* key) const {
    if (!has(key)) fail(std::string("needs '") + key + "'");
    const json& v = cfg_[key];
    if (v.is_number()) return {-std::abs(v.get<float>()), std::abs(v.get<float>()), true};
    if (v.is_array() && v.size() == 2 && v[0].is_number() && v[1].is_number())
      return {std::min(v[0].get<float>(), v[1].get<float>()), std::max(v[0].get<float>(), v[1].get<float>()),
              false};
    fail(std::string("'") + key + "' must be a number or a pair [lower, upper], got " + v.dump());
  }
  // RandomContrast's: one number f for lower = upper = f, a pair [lower,
  // upper] as given (tf.keras 2's reading; Keras 3 writes its factor as the
  // pair it uses, which both read alike).
  nn::FactorRange contrast_factor() const {
    if (!has("factor")) fail("needs 'factor'");
    const json& v = cfg_["factor"];
    if (v.is_number()) return {v.get<float>(), v.get<float>(), true};
    if (v.is_array() && v.size() == 2 && v[0].is_number() && v[1].is_number())
      return {v[0].get<float>(), v[1].get<float>(), false};
    fail("'factor' must be a number or a pair [lower, upper], got " + v.dump());
  }
  std::array<float, 2> value_range() const {
    if (!has("value_range")) return {0.0f, 255.0f};
    const json& v = cfg_["value_range"];
    if (!v.is_array() || v.size() != 2 || !v[0].is_number() || !v[1].is_number())
      fail("'value_range' must be a pair [low, high], got " + v.dump());
    return {std::min(v[0].get<float>(), v[1].get<float>()), std::max(v[0].get<float>(), v[1].get<float>())};
  }
  std::optional<int64_t> seed() const {
    if (!has("seed")) return std::nullopt;
    return integer("seed", 0);
  }
  nn::ImageTransformOptions image_transform() const {
    nn::ImageTransformOptions o;
    try {
      o.fill_mode = nn::parse_image_fill(string("fill_mode", "reflect"));
      o.interpolation = nn::parse_image_interpolation(string("interpolation", "bilinear"));
    } catch (const ValueError& e) {
      fail(e.what());
    }
    o.fill_value = number("fill_value", 0.0f);
    return o;
  }
  // Options this engine does not implement must hold Keras's default.
  void require(const char* key, const json& expected) const {
    if (!cfg_.contains(key)) return;
    const json& v = cfg_[key];
    if (v != expected && !(expected.is_null() && v.is_null()))
      fail(std::string("option '") + key + "' = " + v.dump() + " is not supported, expected " +
           expected.dump());
  }
  void require_null(std::initializer_list<const char*> keys) const {
    for (const char* k : keys)
      if (has(k)) fail(std::string("option '") + k + "' = " + cfg_[k].dump() + " is not supported");
  }
  void require_channels_last() const {
    if (has("data_format") && cfg_["data_format"] != "channels_last")
      fail("data_format " + cfg_["data_format"].dump() + " is not supported, expected \"channels_last\"");
  }
  // [None, d1, ...] from batch_input_shape (Keras 2) or batch_shape (Keras 3).
  Shape batch_shape() const {
    const char* key = has("batch_input_shape") ? "batch_input_shape" : "batch_shape";
    if (!has(key)) return {};
    const json& v = cfg_[key];
    if (!v.is_array() || v.size() < 2) fail(std::string("'") + key + "' must be a list [null, ...]");
    Shape s;
    for (size_t i = 1; i < v.size(); ++i) {
      if (!v[i].is_number_integer() || v[i].get<int64_t>() < 1)
        fail(std::string("'") + key + "' = " + v.dump() +
             " must give every dimension after the batch as a positive integer");
      s.push_back(v[i].get<int64_t>());
    }
    return s;
  }

 private:
  std::string cls_, name_;
  const json& cfg_;
};

}  // namespace

nn::LayerPtr layer_from_config(const std::string& cls, const json& cfg) {
  ConfigReader r(cls, cfg);
  const std::string name = r.name();
  nn::LayerPtr layer;
  if (cls == "InputLayer") {
    Shape s = r.batch_shape();
    if (s.empty()) r.fail("needs 'batch_input_shape'");
    layer = std::make_shared<nn::InputLayer>(s, name);
  } else if (cls == "Conv2D") {
    r.require_channels_last();
    r.require("groups", 1);
    r.require_null({"kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
                    "bias_constraint"});
    nn::Conv2DOptions o;
    if (!r.has("filters")) r.fail("needs 'filters'");
    o.filters = r.integer("filters", 1);
    if (!r.has("kernel_size")) r.fail("needs 'kernel_size'");
    o.kernel_size = r.pair("kernel_size", {1, 1});
    o.strides = r.pair("strides", {1, 1});
    o.padding = r.string("padding", "valid");
    o.dilation_rate = r.pair("dilation_rate", {1, 1});
    o.activation = r.activation();
    o.use_bias = r.boolean("use_bias", true);
    o.kernel_initializer = r.initializer("kernel_initializer", "glorot_uniform");
    o.bias_initializer = r.initializer("bias_initializer", "zeros");
    layer = std::make_shared<nn::Conv2D>(o, name);
  } else if (cls == "Dense") {
    r.require_null({"kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
                    "bias_constraint"});
    nn::DenseOptions o;
    if (!r.has("units")) r.fail("needs 'units'");
    o.units = r.integer("units", 1);
    o.activation = r.activation();
    o.use_bias = r.boolean("use_bias", true);
    o.kernel_initializer = r.initializer("kernel_initializer", "glorot_uniform");
    o.bias_initializer = r.initializer("bias_initializer", "zeros");
    layer = std::make_shared<nn::Dense>(o, name);
  } else if (cls == "MaxPooling2D" || cls == "AveragePooling2D") {
    r.require_channels_last();
    nn::Pool2DOptions o;
    o.pool_size = r.pair("pool_size", {2, 2});
    o.strides = r.pair("strides", o.pool_size);
    o.padding = r.string("padding", "valid");
    if (cls == "MaxPooling2D")
      layer = std::make_shared<nn::MaxPooling2D>(o, name);
    else
      layer = std::make_shared<nn::AveragePooling2D>(o, name);
  } else if (cls == "GlobalAveragePooling2D" || cls == "GlobalMaxPooling2D") {
    r.require_channels_last();
    r.require("keepdims", false);
    if (cls == "GlobalMaxPooling2D")
      layer = std::make_shared<nn::GlobalMaxPooling2D>(name);
    else
      layer = std::make_shared<nn::GlobalAveragePooling2D>(name);
  } else if (cls == "Flatten") {
    r.require_channels_last();
    layer = std::make_shared<nn::Flatten>(name);
  } else if (cls == "Reshape") {
    if (!r.has("target_shape") || !cfg["target_shape"].is_array()) r.fail("needs 'target_shape' (a list)");
    Shape s;
    for (const json& d : cfg["target_shape"]) {
      if (!d.is_number_integer()) r.fail("'target_shape' must hold integers");
      s.push_back(d.get<int64_t>());
    }
    layer = std::make_shared<nn::Reshape>(s, name);
  } else if (cls == "Activation") {
    layer = std::make_shared<nn::Activation>(r.activation(), name);
  } else if (cls == "ZeroPadding2D") {
    r.require_channels_last();
    std::array<std::array<int64_t, 2>, 2> pad{{{1, 1}, {1, 1}}};
    if (r.has("padding")) {
      const json& p = cfg["padding"];
      if (p.is_number_integer()) {
        int64_t v = p.get<int64_t>();
        pad = {{{v, v}, {v, v}}};
      } else if (p.is_array() && p.size() == 2 && p[0].is_number_integer() && p[1].is_number_integer()) {
        pad = {{{p[0].get<int64_t>(), p[0].get<int64_t>()}, {p[1].get<int64_t>(), p[1].get<int64_t>()}}};
      } else if (p.is_array() && p.size() == 2 && p[0].is_array() && p[1].is_array() && p[0].size() == 2 &&
                 p[1].size() == 2) {
        pad = {{{p[0][0].get<int64_t>(), p[0][1].get<int64_t>()},
                {p[1][0].get<int64_t>(), p[1][1].get<int64_t>()}}};
      } else {
        r.fail("'padding' = " + p.dump() + " must be an int, a pair or ((top, bottom), (left, right))");
      }
    }
    layer = std::make_shared<nn::ZeroPadding2D>(pad, name);
  } else if (cls == "BatchNormalization") {
    // The axis must be the input's last; that is checked against the input's
    // rank when the layer is placed (an [1] after Dense, a [3] on images).
    int64_t axis = -1;
    if (r.has("axis")) {
      const json& a = cfg["axis"];
      const json& one = a.is_array() && a.size() == 1 ? a[0] : a;
      if (!one.is_number_integer() || (one.get<int64_t>() < 1 && one.get<int64_t>() != -1))
        r.fail("axis " + a.dump() + " is not supported, expected the channels axis (-1)");
      axis = one.get<int64_t>();
    }
    r.require("renorm", false);
    r.require_null({"virtual_batch_size", "beta_regularizer", "gamma_regularizer", "beta_constraint",
                    "gamma_constraint"});
    nn::BatchNormOptions o;
    o.momentum = r.number("momentum", 0.99f);
    o.epsilon = r.number("epsilon", 1e-3f);
    o.center = r.boolean("center", true);
    o.scale = r.boolean("scale", true);
    o.axis = axis;
    layer = std::make_shared<nn::BatchNormalization>(o, name);
  } else if (cls == "Dropout") {
    r.require_null({"noise_shape"});
    layer = std::make_shared<nn::Dropout>(r.number("rate", 0.5f), name);
  } else if (cls == "Add") {
    layer = std::make_shared<nn::Add>(name);
  } else if (cls == "Concatenate") {
    layer = std::make_shared<nn::Concatenate>(static_cast<int>(r.integer("axis", -1)), name);
  } else if (cls == "Rescaling") {
    layer = std::make_shared<nn::Rescaling>(r.number("scale", 1.0f), r.number("offset", 0.0f), name);
  } else if (cls == "RandomFlip" || cls == "RandomRotation" || cls == "RandomZoom" ||
             cls == "RandomTranslation" || cls == "RandomContrast" || cls == "RandomBrightness") {
    r.require_channels_last();
    try {
      if (cls == "RandomContrast") {
        layer = std::make_shared<nn::RandomContrast>(r.contrast_factor(), r.value_range(), r.seed(), name);
      } else if (cls == "RandomBrightness") {
        layer = std::make_shared<nn::RandomBrightness>(r.factor("factor"), r.value_range(), r.seed(), name);
      } else if (cls == "RandomFlip") {
        layer = std::make_shared<nn::RandomFlip>(r.string("mode", "horizontal_and_vertical"), r.seed(), name);
      } else if (cls == "RandomRotation") {
        layer = std::make_shared<nn::RandomRotation>(r.factor("factor"), r.image_transform(), r.seed(), name);
      } else if (cls == "RandomZoom") {
        std::optional<nn::FactorRange> width;
        if (r.has("width_factor")) width = r.factor("width_factor");
        layer = std::make_shared<nn::RandomZoom>(r.factor("height_factor"), width, r.image_transform(),
                                                 r.seed(), name);
      } else {
        layer = std::make_shared<nn::RandomTranslation>(r.factor("height_factor"), r.factor("width_factor"),
                                                        r.image_transform(), r.seed(), name);
      }
    } catch (const ValueError& e) {
      const std::string what = e.what();
      if (what.rfind("model JSON:", 0) == 0) throw;
      r.fail(what.substr(what.find(": ") + 2));  // the constructor's message, less its class
    }
  } else {
    throw ValueError("model JSON: layer '" + name + "' has class '" + cls +
                     "', which is not supported; supported layers: " + kSupported);
  }
  if (cfg.contains("trainable") && cfg["trainable"].is_boolean() && !cfg["trainable"].get<bool>())
    layer->set_trainable(false);
  if (cls != "InputLayer") {
    Shape s = r.batch_shape();
    if (!s.empty()) layer->set_declared_input_shape(s);
  }
  return layer;
}

namespace {

struct LayerEntry {
  std::string cls;
  const json* config;
};

LayerEntry entry_of(const json& l, size_t index) {
  if (!l.is_object() || !l.contains("class_name") || !l["class_name"].is_string() || !l.contains("config"))
    throw ValueError("model JSON: layers[" + std::to_string(index) +
                     "] must be an object with 'class_name' and 'config'");
  return {l["class_name"].get<std::string>(), &l["config"]};
}

// One tensor a layer takes: the layer that made it, which of that layer's
// calls (node) and which of its outputs (Keras's keras_history).
struct TensorRef {
  std::string layer;
  int64_t node = 0, index = 0;
};

TensorRef ref_of(const json& v, const std::string& who) {
  if (!v.is_array() || v.empty() || !v[0].is_string())
    throw ValueError("model JSON: layer '" + who + "': bad inbound tensor " + v.dump());
  TensorRef r{v[0].get<std::string>()};
  if (v.size() > 1 && v[1].is_number_integer()) r.node = v[1].get<int64_t>();
  if (v.size() > 2 && v[2].is_number_integer()) r.index = v[2].get<int64_t>();
  return r;
}

// The tensors a Keras 3 call's arguments hold (each a __keras_tensor__
// object with its keras_history), in order.
void collect_history(const json& v, const std::string& who, std::vector<TensorRef>& out) {
  if (v.is_object()) {
    if (v.contains("keras_history") && v["keras_history"].is_array() && !v["keras_history"].empty())
      out.push_back(ref_of(v["keras_history"], who));
    else if (v.contains("config"))
      collect_history(v["config"], who, out);
    return;
  }
  if (v.is_array())
    for (const json& e : v) collect_history(e, who, out);
}

std::vector<TensorRef> inbound_refs(const json& layer, const std::string& name) {
  std::vector<TensorRef> out;
  if (!layer.contains("inbound_nodes")) return out;
  const json& nodes = layer["inbound_nodes"];
  if (!nodes.is_array()) throw ValueError("model JSON: layer '" + name + "': 'inbound_nodes' must be a list");
  if (nodes.size() > 1)
    throw ValueError("model JSON: layer '" + name +
                     "' is called more than once (a shared layer), which is not supported");
  if (nodes.empty()) return out;
  const json& node = nodes[0];
  if (node.is_object()) {  // Keras 3: {"args": [...], "kwargs": {...}}
    collect_history(node.contains("args") ? node["args"] : json(), name, out);
    return out;
  }
  if (!node.is_array()) throw ValueError("model JSON: layer '" + name + "': bad inbound node " + node.dump());
  for (const json& t : node) out.push_back(ref_of(t, name));
  return out;
}

// Whether the layer's call passed training=False: Keras 2 keeps the call's
// keyword arguments beside each inbound tensor, Keras 3 in the node's kwargs.
bool called_with_training_false(const json& layer) {
  if (!layer.contains("inbound_nodes") || !layer["inbound_nodes"].is_array() ||
      layer["inbound_nodes"].empty())
    return false;
  const json& node = layer["inbound_nodes"][0];
  auto is_false = [](const json& kwargs) {
    return kwargs.is_object() && kwargs.contains("training") && kwargs["training"] == false;
  };
  if (node.is_object()) return node.contains("kwargs") && is_false(node["kwargs"]);
  if (node.is_array())
    for (const json& t : node)
      if (t.is_array() && t.size() > 3 && is_false(t[3])) return true;
  return false;
}

std::vector<TensorRef> endpoint_refs(const json& v, const char* key) {
  if (!v.is_array()) throw ValueError(std::string("model JSON: '") + key + "' must be a list");
  if (!v.empty() && v[0].is_string()) return {ref_of(v, key)};  // Keras 3 writes a single endpoint flat
  std::vector<TensorRef> out;
  for (const json& e : v) out.push_back(ref_of(e, key));
  return out;
}

// The input shape of a Sequential built with model.build(shape) and no
// Input: Keras 2 keeps it as build_input_shape, Keras 3 as build_config's
// input_shape; null where there is none.
const json* built_input_shape(const json& cfg) {
  if (cfg.contains("build_input_shape") && cfg["build_input_shape"].is_array())
    return &cfg["build_input_shape"];
  if (cfg.contains("build_config") && cfg["build_config"].is_object() &&
      cfg["build_config"].contains("input_shape") && cfg["build_config"]["input_shape"].is_array())
    return &cfg["build_config"]["input_shape"];
  return nullptr;
}

Shape shape_after_batch(const json& shape, const std::string& name) {
  Shape s;
  for (size_t i = 1; i < shape.size(); ++i) {
    if (!shape[i].is_number_integer() || shape[i].get<int64_t>() < 1)
      throw ValueError("model JSON: Sequential '" + name + "' was built with input shape " + shape.dump() +
                       ", expected whole numbers after the batch axis");
    s.push_back(shape[i].get<int64_t>());
  }
  return s;
}

std::string model_name(const json& cfg, const char* def) {
  return cfg.contains("name") && cfg["name"].is_string() ? cfg["name"].get<std::string>() : def;
}

// Builds a model's layers as one graph. A model used as a layer of another
// (Keras's transfer learning: Sequential([backbone, pooling, head])) is
// built in place on the tensors it is called on: the engine's models are
// one flat graph, so its layers join the outer model's, under their own
// names, frozen where the nested model is.
class GraphBuilder {
 public:
  // The model's output tensors. `inputs` are the tensors a nested model is
  // called on; empty for the outermost model, whose InputLayers start the graph.
  std::vector<nn::KerasTensor> build(const std::string& cls, const json& cfg,
                                     const std::vector<nn::KerasTensor>& inputs, bool frozen) {
    if (!cfg.contains("layers") || !cfg["layers"].is_array())
      throw ValueError("model JSON: model '" + model_name(cfg, "") + "' needs a 'layers' list");
    frozen = frozen ||
             (cfg.contains("trainable") && cfg["trainable"].is_boolean() && !cfg["trainable"].get<bool>());
    if (cls == "Sequential") return sequential(cfg, inputs, frozen);
    return functional(cfg, inputs, frozen);
  }
  const std::vector<nn::KerasTensor>& model_inputs() const { return model_inputs_; }

 private:
  nn::LayerPtr make_layer(const LayerEntry& e, bool frozen) {
    nn::LayerPtr layer = layer_from_config(e.cls, *e.config);
    claim(layer->name());
    if (frozen) layer->set_trainable(false);
    created_.push_back(layer);
    return layer;
  }
  // layer(x, training=False), or a model called so: its BatchNormalizations
  // (those made since `first`) stay in inference mode.
  void pin_inference(size_t first) {
    for (size_t i = first; i < created_.size(); ++i)
      if (auto* bn = dynamic_cast<nn::BatchNormalization*>(created_[i].get())) bn->set_inference_only(true);
  }
  // Names must be unique across the flattened graph.
  void claim(const std::string& name) {
    if (!name.empty() && !names_.insert(name).second)
      throw ValueError("model JSON: two layers are named '" + name +
                       "' (a nested model's layers join the outer model's graph here, so their names must "
                       "differ from the outer model's)");
  }
  nn::KerasTensor new_input(const Shape& shape, const std::string& name) {
    claim(name);
    nn::KerasTensor t = nn::Input(shape, name);
    model_inputs_.push_back(t);
    return t;
  }
  // The batch-less input shape a nested model would be built with (its
  // InputLayer, its first layer's declared shape, or its build shape).
  static Shape declared_input(const std::string& cls, const json& cfg) {
    const json& layers = cfg.contains("layers") && cfg["layers"].is_array() ? cfg["layers"] : json::array();
    if (!layers.empty()) {
      const LayerEntry e = entry_of(layers[0], 0);
      if (is_model_class(e.cls)) {
        const Shape inner = declared_input(e.cls, *e.config);
        if (!inner.empty()) return inner;
      } else if (e.config->is_object()) {
        nn::LayerPtr first = layer_from_config(e.cls, *e.config);
        if (e.cls == "InputLayer") {
          const Shape s = first->compute_output_shape({});  // with the batch axis
          return Shape(s.begin() + 1, s.end());
        }
        if (!first->declared_input_shape().empty()) return first->declared_input_shape();
      }
    }
    if (const json* shape = cls == "Sequential" ? built_input_shape(cfg) : nullptr)
      return shape_after_batch(*shape, model_name(cfg, "sequential"));
    return {};
  }

  std::vector<nn::KerasTensor> sequential(const json& cfg, const std::vector<nn::KerasTensor>& inputs,
                                          bool frozen) {
    const std::string name = model_name(cfg, "sequential");
    const json& layers = cfg["layers"];
    if (inputs.size() > 1)
      throw ValueError(str_cat("model JSON: Sequential '", name, "' is called on ", inputs.size(),
                               " tensors, expected one"));
    std::optional<nn::KerasTensor> x;
    if (!inputs.empty()) x = inputs[0];
    for (size_t i = 0; i < layers.size(); ++i) {
      const LayerEntry e = entry_of(layers[i], i);
      if (e.cls == "InputLayer") {
        if (x) {
          check_call_input(*e.config, *x, "Sequential '" + name + "'");
          continue;
        }
        nn::LayerPtr in = layer_from_config(e.cls, *e.config);
        const Shape shape = in->compute_output_shape({});
        x = new_input(Shape(shape.begin() + 1, shape.end()), in->name());
        continue;
      }
      if (!x) {  // no InputLayer: the first layer's declared shape, or the build shape
        const Shape shape = declared_input("Sequential", cfg);
        if (shape.empty())
          throw ValueError(
              "model JSON: Sequential '" + name +
              "' has no input shape: expected an InputLayer or 'batch_input_shape' on its first layer");
        // Keras names the InputLayer it adds after the first layer.
        const std::string first = model_name(*e.config, "input");
        x = new_input(shape, names_.count(first + "_input") ? std::string() : first + "_input");
      }
      if (is_model_class(e.cls)) {
        x = single_output(build(e.cls, *e.config, {*x}, frozen), *e.config);
      } else {
        x = nn::apply_layer(make_layer(e, frozen), *x);
      }
    }
    if (!x)
      throw ValueError(
          "model JSON: Sequential '" + name +
          "' has no input shape: expected an InputLayer or 'batch_input_shape' on its first layer");
    return {*x};
  }

  // A nested model's InputLayer against the tensor it is called on: the
  // dimensions it gives must match (a backbone made without an input shape
  // leaves height and width None, as Keras allows).
  static void check_call_input(const json& cfg, const nn::KerasTensor& x, const std::string& who) {
    const char* key = cfg.contains("batch_input_shape") ? "batch_input_shape" : "batch_shape";
    if (!cfg.contains(key) || !cfg[key].is_array()) return;
    const json& want = cfg[key];
    const Shape& got = x.shape();
    bool ok = want.size() == got.size();
    std::string text = "(";
    for (size_t i = 0; i < want.size(); ++i) {
      const bool known = want[i].is_number_integer();
      text += (i ? ", " : "") + (known ? std::to_string(want[i].get<int64_t>()) : std::string("None"));
      if (i > 0 && i < got.size() && known && want[i].get<int64_t>() != got[i]) ok = false;
      if (!known && !want[i].is_null()) ok = false;
    }
    if (!ok)
      throw ValueError("model JSON: " + who + " expects input " + text + ") but is called on " +
                       shape_str(got));
  }

  static nn::KerasTensor single_output(const std::vector<nn::KerasTensor>& outs, const json& cfg) {
    if (outs.size() != 1)
      throw ValueError(str_cat("model JSON: nested model '", model_name(cfg, ""), "' has ", outs.size(),
                               " outputs; a model inside a Sequential must have one"));
    return outs[0];
  }

  std::vector<nn::KerasTensor> functional(const json& cfg, const std::vector<nn::KerasTensor>& inputs,
                                          bool frozen) {
    const std::string name = model_name(cfg, "model");
    for (const char* key : {"input_layers", "output_layers"})
      if (!cfg.contains(key))
        throw ValueError(std::string("model JSON: Functional config needs '") + key + "'");
    const std::vector<TensorRef> input_refs = endpoint_refs(cfg["input_layers"], "input_layers");
    if (!inputs.empty() && inputs.size() != input_refs.size())
      throw ValueError(str_cat("model JSON: nested model '", name, "' has ", input_refs.size(),
                               " inputs but is called on ", inputs.size()));
    // Each layer's outputs; a nested model's are its calls' (Keras numbers
    // its first call 1 when the model has its own InputLayer, node 0 being
    // its construction, so the node index is not checked for models).
    std::map<std::string, std::vector<nn::KerasTensor>> tensors;
    std::set<std::string> models;
    const json& layers = cfg["layers"];
    for (size_t i = 0; i < layers.size(); ++i) {
      const LayerEntry e = entry_of(layers[i], i);
      const std::string lname = layers[i].value("name", model_name(*e.config, ""));
      if (tensors.count(lname)) throw ValueError("model JSON: two layers are named '" + lname + "'");
      if (e.cls == "InputLayer") {
        if (inputs.empty()) {
          nn::LayerPtr in = layer_from_config(e.cls, *e.config);
          const Shape shape = in->compute_output_shape({});
          tensors[lname] = {new_input(Shape(shape.begin() + 1, shape.end()), lname)};
          continue;
        }
        size_t k = 0;
        while (k < input_refs.size() && input_refs[k].layer != lname) ++k;
        if (k == input_refs.size())
          throw ValueError("model JSON: nested model '" + name + "' has an InputLayer '" + lname +
                           "' that its 'input_layers' do not list");
        check_call_input(*e.config, inputs[k], "nested model '" + name + "'");
        tensors[lname] = {inputs[k]};
        continue;
      }
      std::vector<nn::KerasTensor> ins;
      for (const TensorRef& r : inbound_refs(layers[i], lname))
        ins.push_back(pick(tensors, models, r, lname));
      if (ins.empty()) throw ValueError("model JSON: layer '" + lname + "' has no inbound nodes");
      const size_t first = created_.size();
      if (is_model_class(e.cls)) {
        models.insert(lname);
        tensors[lname] = build(e.cls, *e.config, ins, frozen);
      } else {
        tensors[lname] = {nn::apply_layer(make_layer(e, frozen), ins)};
      }
      if (called_with_training_false(layers[i])) pin_inference(first);
    }
    std::vector<nn::KerasTensor> outs;
    for (const TensorRef& r : endpoint_refs(cfg["output_layers"], "output_layers"))
      outs.push_back(pick(tensors, models, r, "output_layers"));
    // The outermost model's inputs in input_layers' order, which is how
    // predict takes them (the layers list is in depth order).
    if (inputs.empty()) {
      std::vector<nn::KerasTensor> ordered;
      for (const TensorRef& r : input_refs) {
        auto it = tensors.find(r.layer);
        if (it == tensors.end())
          throw ValueError("model JSON: 'input_layers' names unknown layer '" + r.layer + "'");
        const bool is_input =
            std::any_of(model_inputs_.begin(), model_inputs_.end(),
                        [&](const nn::KerasTensor& t) { return t.node == it->second[0].node; });
        if (!is_input)
          throw ValueError("model JSON: 'input_layers' names '" + r.layer + "', which is not an InputLayer");
        ordered.push_back(it->second[0]);
      }
      model_inputs_ = std::move(ordered);
    }
    return outs;
  }

  static nn::KerasTensor pick(const std::map<std::string, std::vector<nn::KerasTensor>>& tensors,
                              const std::set<std::string>& models, const TensorRef& r,
                              const std::string& who) {
    auto it = tensors.find(r.layer);
    if (it == tensors.end())
      throw ValueError("model JSON: layer '" + who + "' takes input from unknown layer '" + r.layer + "'");
    if (r.node != 0 && !models.count(r.layer))
      throw ValueError(str_cat("model JSON: layer '", who, "' uses node ", r.node, " of layer '", r.layer,
                               "' (a shared layer), which is not supported"));
    if (r.index < 0 || r.index >= static_cast<int64_t>(it->second.size()))
      throw ValueError(str_cat("model JSON: layer '", who, "' takes output ", r.index, " of layer '", r.layer,
                               "', which has ", it->second.size()));
    return it->second[static_cast<size_t>(r.index)];
  }

  std::set<std::string> names_;
  std::vector<nn::KerasTensor> model_inputs_;
  std::vector<nn::LayerPtr> created_;
};

bool has_nested_model(const json& cfg) {
  for (const json& l : cfg["layers"])
    if (l.is_object() && l.contains("class_name") && l["class_name"].is_string() &&
        is_model_class(l["class_name"].get<std::string>()))
      return true;
  return false;
}

std::unique_ptr<nn::Model> sequential_from_json(const json& cfg, uint64_t seed) {
  const std::string name = model_name(cfg, "sequential");
  const json& layers = cfg["layers"];
  auto build = [&](const Shape* input) {
    auto model = std::make_unique<nn::Sequential>(std::vector<nn::LayerPtr>{}, name, seed);
    if (input) model->add(std::make_shared<nn::InputLayer>(*input));
    for (size_t i = 0; i < layers.size(); ++i) {
      const LayerEntry e = entry_of(layers[i], i);
      model->add(layer_from_config(e.cls, *e.config));
    }
    return model;
  };
  auto model = build(nullptr);
  if (const json* shape = built_input_shape(cfg); model->layers().empty() && shape) {
    const Shape input = shape_after_batch(*shape, name);
    model = build(&input);
  }
  if (model->layers().empty())
    throw ValueError(
        "model JSON: Sequential '" + name +
        "' has no input shape: expected an InputLayer or 'batch_input_shape' on its first layer");
  return model;
}

// The backbone Keras's files hold as one nested Functional of plain layers
// (Sequential([backbone, ...]), or the one model a Functional calls, as in
// `x = backbone(inputs, training=False)`): what they need to write it back
// nested (nn::NestedModel).
std::optional<nn::NestedModel> backbone_of(const std::string& cls, const json& cfg) {
  const json& layers = cfg["layers"];
  const json* found = nullptr;
  std::string name;
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerEntry e = entry_of(layers[i], i);
    if (cls == "Sequential" && e.cls == "InputLayer") continue;
    // A Functional's backbone is the one Functional it calls; a Sequential
    // it calls (keras.io's data_augmentation) is written inline, as the
    // chain of layers it runs as.
    if (is_model_class(e.cls) && (e.cls != "Sequential" || cls == "Sequential")) {
      if (found || (e.cls != "Functional" && e.cls != "Model")) return std::nullopt;
      found = e.config;
      name = layers[i].value("name", model_name(*e.config, "model"));
    }
    // A Sequential's backbone is its first layer; a model in its head is
    // written inline too.
    if (cls == "Sequential") break;
  }
  if (!found) return std::nullopt;
  const json& inner = *found;
  const std::vector<TensorRef> ins = endpoint_refs(inner["input_layers"], "input_layers");
  if (ins.size() != 1 || has_nested_model(inner)) return std::nullopt;
  nn::NestedModel nested{name, ins[0].layer, {}, cls != "Sequential"};
  for (size_t i = 0; i < inner["layers"].size(); ++i) {
    const json& l = inner["layers"][i];
    const LayerEntry le = entry_of(l, i);
    if (le.cls != "InputLayer") nested.layers.push_back(l.value("name", model_name(*le.config, "")));
  }
  return nested;
}

// A Functional model, or a Sequential holding a nested model (one graph:
// the engine's Sequential is a plain chain of layers).
std::unique_ptr<nn::Model> graph_from_json(const std::string& cls, const json& cfg, uint64_t seed) {
  GraphBuilder g;
  std::vector<nn::KerasTensor> outputs = g.build(cls, cfg, {}, false);
  auto model = std::make_unique<nn::Model>(
      g.model_inputs(), outputs, model_name(cfg, cls == "Sequential" ? "sequential" : "model"), seed);
  if (std::optional<nn::NestedModel> nested = backbone_of(cls, cfg)) model->set_nested(std::move(*nested));
  return model;
}

}  // namespace

namespace {
std::unique_ptr<nn::Model> parse_model(const std::string& text, uint64_t seed) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw ValueError("model JSON: the text is not valid JSON");
  if (!j.is_object() || !j.contains("class_name") || !j["class_name"].is_string() || !j.contains("config") ||
      !j["config"].is_object())
    throw ValueError("model JSON: expected an object with 'class_name' and 'config' (Keras model.to_json())");
  const std::string cls = j["class_name"].get<std::string>();
  const json& cfg = j["config"];
  if (!cfg.contains("layers") || !cfg["layers"].is_array())
    throw ValueError("model JSON: config needs a 'layers' list");
  if (cls == "Sequential" && !has_nested_model(cfg)) return sequential_from_json(cfg, seed);
  if (is_model_class(cls)) return graph_from_json(cls, cfg, seed);
  throw ValueError("model JSON: model class '" + cls +
                   "' is not supported, expected Sequential or Functional");
}
}  // namespace

std::unique_ptr<nn::Model> model_from_json(const std::string& text, uint64_t seed) {
  try {
    return parse_model(text, seed);
  } catch (const json::exception& e) {
    // A value of the wrong JSON type somewhere not checked explicitly.
    throw ValueError(std::string("model JSON: unexpected value: ") + e.what());
  }
}

namespace {

// A feeding layer's name and node as written where it is read.
using Renames = std::map<std::string, nn::NestedLayout::Ref>;

// A Functional config's layers list, each layer with the layers feeding it
// (`rename` maps a feeding layer to the name and node written).
ordered_json graph_layers(const nn::Model& model, const std::vector<nn::LayerPtr>& layers,
                          const Renames& rename = {}, bool pinned_bn_kwargs = true) {
  const std::vector<nn::LayerPtr> all = model.layers();
  std::map<const nn::Layer*, size_t> index;
  for (size_t i = 0; i < all.size(); ++i) index[all[i].get()] = i;
  ordered_json out = ordered_json::array();
  for (const nn::LayerPtr& l : layers) {
    ordered_json inbound = ordered_json::array();
    ordered_json node = ordered_json::array();
    // A BatchNormalization pinned to inference is written called with
    // training=False, unless the backbone holding it is called so.
    const auto* bn = dynamic_cast<const nn::BatchNormalization*>(l.get());
    ordered_json kwargs = ordered_json::object();
    if (bn && bn->inference_only() && pinned_bn_kwargs) kwargs["training"] = false;
    for (const std::string& src : model.inbound_layer_names(index.at(l.get()))) {
      auto it = rename.find(src);
      if (it == rename.end())
        node.push_back({src, 0, 0, kwargs});
      else
        node.push_back({it->second.name, it->second.node, 0, kwargs});
    }
    if (!node.empty()) inbound.push_back(node);
    out.push_back({{"class_name", l->class_name()},
                   {"config", l->config()},
                   {"name", l->name()},
                   {"inbound_nodes", inbound}});
  }
  return out;
}

ordered_json endpoints(const std::vector<nn::NestedLayout::Ref>& refs) {
  ordered_json out = ordered_json::array();
  for (const nn::NestedLayout::Ref& r : refs) out.push_back({r.name, r.node, 0});
  return out;
}

ordered_json endpoints(const std::vector<std::string>& names) {
  std::vector<nn::NestedLayout::Ref> refs;
  for (const std::string& n : names) refs.push_back({n, 0});
  return endpoints(refs);
}

// The InputLayer config of a tensor of `shape` (with the batch axis),
// named `name`: the entry's own where the backbone is called on an input.
ordered_json input_config(const nn::LayerPtr& entry, const Shape& shape, const std::string& name) {
  ordered_json c = dynamic_cast<const nn::InputLayer*>(entry.get())
                       ? entry->config()
                       : nn::InputLayer(Shape(shape.begin() + 1, shape.end())).config();
  c["name"] = name;
  return c;
}

// The backbone as the Functional Keras nests: its own InputLayer, shaped as
// the tensor it is called on, then its layers (node 0 of its graph is its
// Input's, so its own layers' configs need no node index). `called_pinned`:
// the call itself says training=False, so its batch normalizations do not.
ordered_json backbone_config(const nn::Model& model, const nn::NestedLayout& nl, const Shape& entry_shape,
                             bool called_pinned = false) {
  const std::string& inner_input = nl.nested->input_name;
  ordered_json inner_layers = ordered_json::array();
  inner_layers.push_back({{"class_name", "InputLayer"},
                          {"config", input_config(nl.entry, entry_shape, inner_input)},
                          {"name", inner_input},
                          {"inbound_nodes", ordered_json::array()}});
  for (ordered_json& l :
       graph_layers(model, nl.inner, {{nl.entry->name(), {inner_input, 0}}}, !called_pinned))
    inner_layers.push_back(std::move(l));
  ordered_json inner;
  inner["name"] = nl.nested->name;
  inner["trainable"] = nl.trainable;
  inner["layers"] = inner_layers;
  inner["input_layers"] = endpoints({inner_input});
  inner["output_layers"] = endpoints({nl.inner_output->name()});
  return inner;
}

Shape shape_of(const nn::Model& model, const nn::LayerPtr& layer) {
  const std::vector<nn::LayerPtr> all = model.layers();
  return model.output_shape_of(static_cast<size_t>(std::find(all.begin(), all.end(), layer) - all.begin()));
}

// tf.keras 2.12's Sequential([backbone, ...head]): an InputLayer named
// after the backbone, the backbone as a Functional with its own InputLayer,
// the head.
ordered_json nested_sequential(const nn::Model& model, const nn::NestedLayout& nl) {
  const Shape shape = shape_of(model, nl.entry);
  ordered_json layers = ordered_json::array();
  // as Keras's Sequential.add names it
  layers.push_back(
      {{"class_name", "InputLayer"}, {"config", input_config(nl.entry, shape, nl.nested->name + "_input")}});
  layers.push_back({{"class_name", "Functional"}, {"config", backbone_config(model, nl, shape)}});
  for (const nn::LayerPtr& l : nl.head())
    layers.push_back({{"class_name", l->class_name()}, {"config", l->config()}});
  ordered_json config;
  config["name"] = model.name();
  config["layers"] = layers;
  return config;
}

// tf.keras 2.12's Functional calling the backbone: the backbone one layer,
// called on the entry's output (with training=False where its batch
// normalizations are pinned to inference, as keras.io's recipe calls it);
// the layers reading the backbone read its call, node 1.
ordered_json nested_functional(const nn::Model& model, const nn::NestedLayout& nl) {
  bool pinned = false, all_pinned = true;
  for (const nn::LayerPtr& l : nl.inner)
    if (const auto* bn = dynamic_cast<const nn::BatchNormalization*>(l.get())) {
      pinned = true;
      all_pinned = all_pinned && bn->inference_only();
    }
  const bool called_pinned = pinned && all_pinned;
  ordered_json kwargs = ordered_json::object();
  if (called_pinned) kwargs["training"] = false;
  const Renames rename{{nl.inner_output->name(), nl.ref(nl.inner_output)}};
  ordered_json layers = ordered_json::array();
  for (const nn::LayerPtr& l : nl.outer) {
    if (l) {
      layers.push_back(graph_layers(model, {l}, rename)[0]);
      continue;
    }
    const nn::NestedLayout::Ref entry = nl.ref(nl.entry);
    ordered_json call = ordered_json::array();
    call.push_back({entry.name, entry.node, 0, kwargs});
    layers.push_back({{"class_name", "Functional"},
                      {"config", backbone_config(model, nl, shape_of(model, nl.entry), called_pinned)},
                      {"name", nl.nested->name},
                      {"inbound_nodes", ordered_json::array({call})}});
  }
  std::vector<nn::NestedLayout::Ref> outputs;
  for (const std::string& name : model.output_names()) outputs.push_back(nl.ref(model.get_layer(name)));
  ordered_json config;
  config["name"] = model.name();
  config["trainable"] = true;
  config["layers"] = layers;
  config["input_layers"] = endpoints(model.input_names());
  config["output_layers"] = endpoints(outputs);
  return config;
}

}  // namespace

std::string model_to_json(const nn::Model& model) {
  ordered_json config;
  std::string cls;
  if (model.is_sequential()) {
    cls = "Sequential";
    ordered_json layers = ordered_json::array();
    for (const nn::LayerPtr& l : model.layers())
      layers.push_back({{"class_name", l->class_name()}, {"config", l->config()}});
    config["name"] = model.name();
    config["layers"] = layers;
  } else if (const std::optional<nn::NestedLayout> nl = nn::nested_layout(model)) {
    cls = nl->nested->functional_outer ? "Functional" : "Sequential";
    config = nl->nested->functional_outer ? nested_functional(model, *nl) : nested_sequential(model, *nl);
  } else {
    cls = "Functional";
    config["name"] = model.name();
    config["trainable"] = true;
    config["layers"] = graph_layers(model, model.layers());
    config["input_layers"] = endpoints(model.input_names());
    config["output_layers"] = endpoints(model.output_names());
  }
  ordered_json top;
  top["class_name"] = cls;
  top["config"] = config;
  top["keras_version"] = "2.12.0";
  top["backend"] = "tensorflow";
  return python_dumps(top);
}

}  // namespace cnn::io
