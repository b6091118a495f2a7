// Keras 3's .keras and .weights.h5 layouts (keras/src/saving/saving_lib.py):
// each model's layers are a list whose entries are named after their class
// in snake case, numbered from the second of a kind, in model.layers order.
#include "cnn/io/keras3.h"

#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "cnn/error.h"
#include "cnn/io/keras_json.h"
#include "cnn/io/zip_archive.h"
#include "cnn/nn/layers.h"
#include "cnn/optim/optimizer.h"
#include "io/weight_plan.h"
#include "nn/nested_layout.h"

namespace cnn::io {
namespace {

using nlohmann::json;

// Keras's naming.to_snake_case: "GlobalAveragePooling2D" ->
// "global_average_pooling2d", "BatchNormalization" -> "batch_normalization".
std::string snake_case(const std::string& cls) {
  std::string s;
  for (char c : cls)
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') s += c;
  auto upper = [&](size_t i) { return i < s.size() && std::isupper(static_cast<unsigned char>(s[i])); };
  auto lower = [&](size_t i) { return i < s.size() && std::islower(static_cast<unsigned char>(s[i])); };
  // re.sub("(.)([A-Z][a-z]+)", r"\1_\2"), matches taken left to right.
  std::string a;
  for (size_t i = 0; i < s.size();) {
    if (upper(i + 1) && lower(i + 2)) {
      size_t j = i + 2;
      while (lower(j)) ++j;
      a += s.substr(i, 1) + "_" + s.substr(i + 1, j - i - 1);
      i = j;
    } else {
      a += s[i++];
    }
  }
  // re.sub("([a-z])([A-Z])", r"\1_\2").
  s = a;
  std::string b;
  for (size_t i = 0; i < s.size();) {
    if (lower(i) && upper(i + 1)) {
      b += s.substr(i, 1) + "_" + s.substr(i + 1, 1);
      i += 2;
    } else {
      b += s[i++];
    }
  }
  for (char& c : b) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return b;
}

// Layer name -> its place in the file ("layers/conv2d_1").
using Paths = std::map<std::string, std::string>;

// The name saving_lib gives the next entry of a list of layers.
std::string next_name(const std::string& cls, std::map<std::string, int>& used) {
  std::string name = snake_case(cls);
  auto it = used.find(name);
  if (it == used.end()) {
    used[name] = 0;
    return name;
  }
  return name + "_" + std::to_string(++it->second);
}

// From the model's config: a Sequential's layers leave its InputLayer out,
// a Functional's keep theirs (both as Keras 3's model.layers).
void config_paths(const json& cfg, const std::string& cls, const std::string& prefix, Paths& out) {
  if (!cfg.is_object() || !cfg.contains("layers") || !cfg["layers"].is_array())
    throw ValueError("Keras 3 model: config of '" + cls + "' needs a 'layers' list");
  std::map<std::string, int> used;
  for (const json& l : cfg["layers"]) {
    if (!l.is_object() || !l.contains("class_name") || !l["class_name"].is_string() || !l.contains("config"))
      throw ValueError("Keras 3 model: a layer entry without 'class_name' and 'config': " + l.dump());
    const std::string lcls = l["class_name"].get<std::string>();
    if (cls == "Sequential" && lcls == "InputLayer") continue;
    const std::string path = prefix + "layers/" + next_name(lcls, used);
    if (is_model_class(lcls))
      config_paths(l["config"], lcls, path + "/", out);
    else if (l["config"].contains("name") && l["config"]["name"].is_string())
      out[l["config"]["name"].get<std::string>()] = path;
  }
}

// From the engine's model: its layers as Keras 3 lists them, a stacked
// backbone as the nested Functional Keras's files hold it.
Paths model_paths(const nn::Model& model) {
  Paths out;
  std::map<std::string, int> used;
  std::vector<nn::LayerPtr> list;
  if (auto* s = dynamic_cast<const nn::Sequential*>(&model)) {
    list = s->sequential_layers();
  } else if (const std::optional<nn::NestedLayout> nl = nn::nested_layout(model)) {
    for (const nn::LayerPtr& l : nl->model_layers()) {
      if (l) {
        out[l->name()] = "layers/" + next_name(l->class_name(), used);
        continue;
      }
      const std::string prefix = "layers/" + next_name("Functional", used) + "/";
      std::map<std::string, int> inner_used;
      next_name("InputLayer", inner_used);  // the backbone's own input comes first
      for (const nn::LayerPtr& inner : nl->inner)
        out[inner->name()] = prefix + "layers/" + next_name(inner->class_name(), inner_used);
    }
    return out;
  } else {
    list = model.layers();
  }
  for (const nn::LayerPtr& l : list) out[l->name()] = "layers/" + next_name(l->class_name(), used);
  return out;
}

// tf.keras 2.13-2.15 wrote _layer_checkpoint_dependencies where Keras 3 writes layers.
const H5Group* find_vars(const H5Group& root, const std::string& path, std::string* found) {
  if (const H5Group* g = root.find_group(path + "/vars")) {
    *found = path + "/vars";
    return g;
  }
  std::string old;
  for (const std::string& part : split_h5_path(path))
    old +=
        (old.empty() ? "" : "/") + (part == "layers" ? std::string("_layer_checkpoint_dependencies") : part);
  *found = old + "/vars";
  return root.find_group(*found);
}

// Every vars group holding values, by path. Optimizers are left out: the
// model's, and a nested model's own when it was compiled
// (layers/functional/optimizer/vars).
void weighted_vars(const H5Group& g, const std::string& path, std::vector<std::string>& out) {
  for (const auto& [name, child] : g.groups) {
    const std::string p = path.empty() ? name : path + "/" + name;
    if (name == "optimizer") continue;
    if (name == "vars" && !child->datasets.empty()) out.push_back(p);
    weighted_vars(*child, p, out);
  }
}

KerasWeightsReport load_by_paths(nn::Model& model, const H5Group& root, const Paths& paths) {
  std::vector<WeightAssignment> plan;
  std::set<std::string> used;
  KerasWeightsReport report;
  for (const nn::LayerPtr& l : model.layers()) {
    std::vector<nn::Weight>& ws = l->weights();
    if (ws.empty()) continue;
    auto it = paths.find(l->name());
    if (it == paths.end())
      throw ValueError("Keras 3 weights: layer '" + l->name() + "' has no place in the file's structure");
    std::string where;
    const H5Group* vars = find_vars(root, it->second, &where);
    if (!vars)
      throw ValueError("Keras 3 weights: the file has no weights for layer '" + l->name() +
                       "' (expected at '" + it->second + "/vars'); the file holds another model's structure");
    if (vars->datasets.size() != ws.size())
      throw ValueError(str_cat("Keras 3 weights: layer '", l->name(), "' has ", ws.size(),
                               " weights, the file ", vars->datasets.size(), " at '", where, "'"));
    for (size_t i = 0; i < ws.size(); ++i) {
      const H5Dataset* d = vars->find_dataset(std::to_string(i));
      if (!d) throw ValueError(str_cat("Keras 3 weights: '", where, "' has no dataset '", i, "'"));
      if (d->shape != ws[i].value.shape())
        throw ValueError(str_cat("Keras 3 weights: layer '", l->name(), "', weight '", ws[i].name,
                                 "': the model expects shape ", shape_str(ws[i].value.shape()),
                                 ", the file has ", shape_str(d->shape), " ('", where, "/", i, "')"));
      plan.push_back({&ws[i], d});
    }
    used.insert(where);
    ++report.layers;
  }
  std::vector<std::string> in_file;
  weighted_vars(root, "", in_file);
  for (const std::string& p : in_file)
    if (!used.count(p))
      throw ValueError("Keras 3 weights: the file holds weights at '" + p +
                       "' for which the model has no layer; the file holds another model's structure");
  report.values = apply_weight_plan(plan);
  return report;
}

// A Keras 3 loss or metric: a name, or a serialized object whose class
// names it ("SparseCategoricalCrossentropy"). Empty when it has settings
// the engine's loss does not take (from_logits, label smoothing, ...).
std::string plain_name(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (!v.is_object() || !v.contains("class_name") || !v["class_name"].is_string()) return "";
  const std::string cls = v["class_name"].get<std::string>();
  // A loss given as a function: {"class_name": "function", "config": "sparse_categorical_crossentropy"}.
  if (cls == "function")
    return v.contains("config") && v["config"].is_string() ? v["config"].get<std::string>() : "";
  if (v.contains("config") && v["config"].is_object())
    for (const auto& [key, value] : v["config"].items()) {
      if (key == "name" || key == "dtype") continue;
      const bool at_default = value.is_null() || value == false || value == 0 ||
                              (key == "axis" && value == -1) ||
                              (key == "reduction" && (value == "sum_over_batch_size" || value == "auto"));
      if (!at_default) return "";
    }
  return snake_case(cls);
}

// compile_config: compiled where the optimizer and loss are the engine's;
// otherwise left uncompiled, as load_model(compile=False).
void compile_from(nn::Model& model, const json& cc) {
  if (!cc.is_object() || !cc.contains("optimizer") || !cc.contains("loss")) return;
  const std::string loss = plain_name(cc["loss"]);
  if (loss.empty()) return;
  std::vector<std::string> metrics;
  if (cc.contains("metrics") && cc["metrics"].is_array())
    for (const json& m : cc["metrics"]) {
      std::string name = plain_name(m);
      if (m.is_object() && m.contains("config") && m["config"].is_object() && m["config"].contains("name") &&
          m["config"]["name"].is_string())
        name = m["config"]["name"].get<std::string>();
      for (const char* known :
           {"accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy", "binary_accuracy"})
        if (name == known && std::find(metrics.begin(), metrics.end(), name) == metrics.end())
          metrics.push_back(name);
    }
  try {
    model.compile(optim::optimizer_from_config(cc["optimizer"]), loss, metrics);
  } catch (const ValueError&) {
    // left uncompiled: fit() then asks for compile()
  }
}

}  // namespace

bool is_keras3_weights(const H5Group& root) {
  return !root.has_attr("layer_names") && (root.find_group("layers") != nullptr ||
                                           root.find_group("_layer_checkpoint_dependencies") != nullptr);
}

KerasWeightsReport load_keras3_weights(nn::Model& model, const H5Group& root) {
  return load_by_paths(model, root, model_paths(model));
}

Keras3Archive read_keras3_archive(const uint8_t* data, size_t size) {
  const std::vector<ZipMember> members = zip_members(data, size);
  const ZipMember* config = find_zip_member(members, "config.json");
  if (!config)
    throw ValueError(
        "Keras 3 .keras file: the archive has no config.json (expected what model.save('m.keras') writes)");
  const ZipMember* weights = find_zip_member(members, "model.weights.h5");
  if (!weights) {
    if (find_zip_member(members, "model.weights.npz"))
      throw ValueError(
          "Keras 3 .keras file: its weights are in the .npz format, which is not read here; save it with "
          "model.save('m.keras') and its default weights format (h5)");
    throw ValueError("Keras 3 .keras file: the archive has no model.weights.h5");
  }
  Keras3Archive out;
  out.config.assign(reinterpret_cast<const char*>(data + config->offset), config->size);
  out.weights_offset = weights->offset;
  out.weights_size = weights->size;
  return out;
}

std::unique_ptr<nn::Model> load_keras3_model(const std::string& config, const H5Group& weights) {
  json top = json::parse(config, nullptr, /*allow_exceptions=*/false);
  if (top.is_discarded() || !top.is_object() || !top.contains("class_name") ||
      !top["class_name"].is_string() || !top.contains("config"))
    throw ValueError("Keras 3 .keras file: config.json is not a model's configuration");
  std::unique_ptr<nn::Model> model = model_from_json(config);
  Paths paths;
  config_paths(top["config"], top["class_name"].get<std::string>(), "", paths);
  load_by_paths(*model, weights, paths);
  if (top.contains("compile_config")) compile_from(*model, top["compile_config"]);
  return model;
}

}  // namespace cnn::io
