// Keras model JSON reader and writer. Readers are tolerant (Keras 2.x and 3
// layouts, extra metadata keys); writers are strict (tf.keras 2.12's text).
#include "cnn/io/keras_json.h"

#include <map>
#include <nlohmann/json.hpp>

#include "cnn/error.h"
#include "cnn/nn/layers.h"
#include "io/python_json.h"

namespace cnn::io {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

const char* kSupported =
    "InputLayer, Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, "
    "GlobalMaxPooling2D, Flatten, Reshape, Dense, Activation, ZeroPadding2D, "
    "BatchNormalization, Dropout, Add, Concatenate, Rescaling";

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

// The layer names a Keras 2 or Keras 3 inbound_nodes entry refers to.
void collect_history(const json& v, std::vector<std::string>& out) {
  if (v.is_object()) {
    if (v.contains("keras_history") && v["keras_history"].is_array() && !v["keras_history"].empty())
      out.push_back(v["keras_history"][0].get<std::string>());
    else if (v.contains("config"))
      collect_history(v["config"], out);
    return;
  }
  if (v.is_array())
    for (const json& e : v) collect_history(e, out);
}

std::vector<std::string> inbound_names(const json& layer, const std::string& name) {
  std::vector<std::string> out;
  if (!layer.contains("inbound_nodes")) return out;
  const json& nodes = layer["inbound_nodes"];
  if (!nodes.is_array()) throw ValueError("model JSON: layer '" + name + "': 'inbound_nodes' must be a list");
  if (nodes.size() > 1)
    throw ValueError("model JSON: layer '" + name +
                     "' is called more than once (a shared layer), which is not supported");
  if (nodes.empty()) return out;
  const json& node = nodes[0];
  if (node.is_object()) {  // Keras 3: {"args": [...], "kwargs": {...}}
    collect_history(node.contains("args") ? node["args"] : json(), out);
    return out;
  }
  if (!node.is_array()) throw ValueError("model JSON: layer '" + name + "': bad inbound node " + node.dump());
  for (const json& t : node) {
    if (!t.is_array() || t.empty() || !t[0].is_string())
      throw ValueError("model JSON: layer '" + name + "': bad inbound tensor " + t.dump());
    if (t.size() > 1 && t[1].is_number_integer() && t[1].get<int>() != 0)
      throw ValueError("model JSON: layer '" + name + "' uses node " + t[1].dump() + " of layer " +
                       t[0].dump() + " (a shared layer), which is not supported");
    out.push_back(t[0].get<std::string>());
  }
  return out;
}

std::vector<std::string> endpoint_names(const json& v, const char* key) {
  std::vector<std::string> out;
  if (!v.is_array()) throw ValueError(std::string("model JSON: '") + key + "' must be a list");
  if (!v.empty() && v[0].is_string()) {  // Keras 3 writes a single endpoint flat
    out.push_back(v[0].get<std::string>());
    return out;
  }
  for (const json& e : v) {
    if (!e.is_array() || e.empty() || !e[0].is_string())
      throw ValueError(std::string("model JSON: bad entry in '") + key + "': " + e.dump());
    out.push_back(e[0].get<std::string>());
  }
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

std::unique_ptr<nn::Model> sequential_from_json(const json& cfg, uint64_t seed) {
  const std::string name = cfg.value("name", std::string("sequential"));
  const json& layers = cfg["layers"];
  auto build = [&](const Shape* input) {
    auto model = std::make_unique<nn::Sequential>(std::vector<nn::LayerPtr>{}, name, seed);
    if (input) model->add(std::make_shared<nn::InputLayer>(*input));
    for (size_t i = 0; i < layers.size(); ++i) {
      LayerEntry e = entry_of(layers[i], i);
      model->add(layer_from_config(e.cls, *e.config));
    }
    return model;
  };
  auto model = build(nullptr);
  if (const json* shape = built_input_shape(cfg); model->layers().empty() && shape) {
    Shape input;
    for (size_t i = 1; i < shape->size(); ++i) {
      if (!(*shape)[i].is_number_integer())
        throw ValueError("model JSON: Sequential '" + name + "' was built with input shape " + shape->dump() +
                         ", expected whole numbers after the batch axis");
      input.push_back((*shape)[i].get<int64_t>());
    }
    model = build(&input);
  }
  if (model->layers().empty())
    throw ValueError(
        "model JSON: Sequential '" + name +
        "' has no input shape: expected an InputLayer or 'batch_input_shape' on its first layer");
  return model;
}

std::unique_ptr<nn::Model> functional_from_json(const json& cfg, uint64_t seed) {
  const std::string name = cfg.value("name", std::string("model"));
  std::map<std::string, nn::KerasTensor> tensors;
  const json& layers = cfg["layers"];
  for (size_t i = 0; i < layers.size(); ++i) {
    LayerEntry e = entry_of(layers[i], i);
    nn::LayerPtr layer = layer_from_config(e.cls, *e.config);
    const std::string lname = layers[i].value("name", layer->name());
    if (tensors.count(lname)) throw ValueError("model JSON: two layers are named '" + lname + "'");
    if (e.cls == "InputLayer") {
      auto node = std::make_shared<nn::GraphNode>();
      node->layer = layer;
      node->shape = layer->compute_output_shape({});
      tensors[lname] = nn::KerasTensor{node};
      continue;
    }
    std::vector<nn::KerasTensor> ins;
    for (const std::string& src : inbound_names(layers[i], lname)) {
      auto it = tensors.find(src);
      if (it == tensors.end())
        throw ValueError("model JSON: layer '" + lname + "' takes input from unknown layer '" + src + "'");
      ins.push_back(it->second);
    }
    if (ins.empty()) throw ValueError("model JSON: layer '" + lname + "' has no inbound nodes");
    tensors[lname] = nn::apply_layer(layer, ins);
  }
  auto pick = [&](const char* key) -> std::vector<nn::KerasTensor> {
    if (!cfg.contains(key))
      throw ValueError(std::string("model JSON: Functional config needs '") + key + "'");
    std::vector<nn::KerasTensor> out;
    for (const std::string& n : endpoint_names(cfg[key], key)) {
      auto it = tensors.find(n);
      if (it == tensors.end())
        throw ValueError(std::string("model JSON: '") + key + "' names unknown layer '" + n + "'");
      out.push_back(it->second);
    }
    return out;
  };
  return std::make_unique<nn::Model>(pick("input_layers"), pick("output_layers"), name, seed);
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
  if (cls == "Sequential") return sequential_from_json(cfg, seed);
  if (cls == "Functional" || cls == "Model") return functional_from_json(cfg, seed);
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

std::string model_to_json(const nn::Model& model) {
  ordered_json layers = ordered_json::array();
  const std::vector<nn::LayerPtr> all = model.layers();
  ordered_json config;
  config["name"] = model.name();
  if (model.is_sequential()) {
    for (const nn::LayerPtr& l : all)
      layers.push_back({{"class_name", l->class_name()}, {"config", l->config()}});
    config["layers"] = layers;
  } else {
    config["trainable"] = true;
    for (size_t i = 0; i < all.size(); ++i) {
      ordered_json inbound = ordered_json::array();
      ordered_json node = ordered_json::array();
      for (const std::string& src : model.inbound_layer_names(i))
        node.push_back({src, 0, 0, ordered_json::object()});
      if (!node.empty()) inbound.push_back(node);
      layers.push_back({{"class_name", all[i]->class_name()},
                        {"config", all[i]->config()},
                        {"name", all[i]->name()},
                        {"inbound_nodes", inbound}});
    }
    config["layers"] = layers;
    ordered_json ins = ordered_json::array(), outs = ordered_json::array();
    for (const std::string& n : model.input_names()) ins.push_back({n, 0, 0});
    for (const std::string& n : model.output_names()) outs.push_back({n, 0, 0});
    config["input_layers"] = ins;
    config["output_layers"] = outs;
  }
  ordered_json top;
  top["class_name"] = model.is_sequential() ? "Sequential" : "Functional";
  top["config"] = config;
  top["keras_version"] = "2.12.0";
  top["backend"] = "tensorflow";
  return python_dumps(top);
}

}  // namespace cnn::io
