// Keras's HDF5 layouts (tf.keras 2.x, hdf5_format.py / legacy_h5_format.py):
// which groups, attributes and datasets hold a model's weights, and how
// load_weights matches them to layers.
#include "cnn/io/keras_h5.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>

#include "cnn/error.h"
#include "cnn/io/keras3.h"
#include "cnn/io/keras_json.h"
#include "cnn/nn/layers.h"
#include "cnn/optim/optimizer.h"
#include "io/python_json.h"
#include "io/weight_plan.h"
#include "nn/nested_layout.h"

namespace cnn::io {
namespace {

constexpr const char* kKerasVersion = "2.12.0";
constexpr const char* kBackend = "tensorflow";
constexpr const char* kMetadataAttr = "cnnp_metadata";            // ours; Keras ignores other attributes
constexpr const char* kPreprocessingAttr = "cnnp_preprocessing";  // Model::preprocessing()
constexpr float kLegacyResNetEpsilon = 1e-3f;  // keras-applications 0.2's BatchNormalization default

// model.layers as Keras lists them: a Sequential's exclude its InputLayer.
std::vector<nn::LayerPtr> keras_layers(const nn::Model& model) {
  if (auto* s = dynamic_cast<const nn::Sequential*>(&model)) return s->sequential_layers();
  return model.layers();
}

struct FileLayer {
  std::string name;      // as stored
  std::string mapped;    // the current Keras name (legacy names mapped)
  const H5Group* group;  // the layer's group (a nested model's, for its layers)
  std::vector<std::string> weight_names;
  std::string nested;  // the nested model holding the layer, "" when none
  // A nested model's group whose weights all name one layer: that layer,
  // which loading by name fills where no file layer has its own name.
  std::string alias;
};

// The weights root: the file itself (save_weights) or its model_weights group (save).
const H5Group& weights_root(const H5Group& file) {
  if (!file.has_attr("layer_names"))
    if (const H5Group* g = file.find_group("model_weights"); g && g->has_attr("layer_names")) return *g;
  return file;
}

bool is_legacy_resnet(const std::vector<std::string>& names) {
  for (const std::string& n : names)
    if (n == "bn_conv1" || n == "res2a_branch2a") return true;
  return false;
}

// The layer a weight belongs to, from tf.keras's weight name
// "[<scope>/]<layer>/<weight>:0" ("" when the name has no layer part).
std::string owner_of(const std::string& weight_name) {
  const size_t last = weight_name.rfind('/');
  if (last == std::string::npos || last == 0) return "";
  const size_t prev = weight_name.rfind('/', last - 1);
  const size_t from = prev == std::string::npos ? 0 : prev + 1;
  return weight_name.substr(from, last - from);
}

// A nested model's group (Sequential([backbone, ...]) saves the backbone as
// one layer) holds its layers' weights under their own names: split into
// one file layer per inner layer, in the order the weights first name
// them. Keras lists a trainable model's trainable weights before its
// moving statistics, so grouping by layer restores each layer's order. A
// group whose weights name one other layer is a nested model's only where
// the file's model config says so (`nested_model`): otherwise it is a layer
// renamed after it was built, which keeps its group's name, as in Keras.
void add_file_layer(std::vector<FileLayer>& out, const std::string& name, const H5Group* g,
                    std::vector<std::string> weight_names, bool legacy, bool nested_model) {
  std::vector<std::string> owners;
  for (const std::string& w : weight_names) {
    const std::string o = owner_of(w);
    if (o.empty()) {
      owners.clear();
      break;
    }
    if (std::find(owners.begin(), owners.end(), o) == owners.end()) owners.push_back(o);
  }
  if (owners.size() < 2) {
    std::string alias = nested_model && owners.size() == 1 && owners[0] != name ? owners[0] : "";
    out.push_back({name, legacy ? modern_resnet_layer_name(name) : name, g, std::move(weight_names), "",
                   std::move(alias)});
    return;
  }
  for (const std::string& o : owners) {
    std::vector<std::string> own;
    for (const std::string& w : weight_names)
      if (owner_of(w) == o) own.push_back(w);
    out.push_back({o, legacy ? modern_resnet_layer_name(o) : o, g, std::move(own), name, ""});
  }
}

// The names of the models used as layers in a model.save file's config
// (none for a weights-only file, or a config that does not parse).
std::set<std::string> nested_model_names(const H5Group& file) {
  std::set<std::string> out;
  const auto config = file.string_attrs.find("model_config");
  if (config == file.string_attrs.end()) return out;
  const nlohmann::json j = nlohmann::json::parse(config->second, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("config") || !j["config"].is_object() ||
      !j["config"].contains("layers") || !j["config"]["layers"].is_array())
    return out;
  for (const nlohmann::json& l : j["config"]["layers"]) {
    if (!l.is_object() || !l.value("class_name", nlohmann::json()).is_string() ||
        !is_model_class(l["class_name"].get<std::string>()))
      continue;
    if (l.contains("name") && l["name"].is_string()) out.insert(l["name"].get<std::string>());
    if (l.contains("config") && l["config"].is_object() && l["config"].contains("name") &&
        l["config"]["name"].is_string())
      out.insert(l["config"]["name"].get<std::string>());
  }
  return out;
}

std::vector<FileLayer> file_layers(const H5Group& root, bool* legacy, const std::set<std::string>& nested) {
  const std::vector<std::string> names = root.keras_string_list("layer_names");
  if (names.empty())
    throw ValueError(
        "Keras weights: the file has no 'layer_names' attribute; expected a file written by Keras's "
        "model.save_weights('...h5') or model.save('...h5'), a Keras 3 .weights.h5, or a keras.applications "
        "weights file");
  *legacy = is_legacy_resnet(names);
  std::vector<FileLayer> out;
  for (const std::string& name : names) {
    const H5Group* g = root.find_group(name);
    if (!g) throw ValueError("Keras weights: the file lists layer '" + name + "' but has no group for it");
    std::vector<std::string> weight_names = g->keras_string_list("weight_names");
    if (weight_names.empty()) continue;
    add_file_layer(out, name, g, std::move(weight_names), *legacy, nested.count(name) > 0);
  }
  return out;
}

// Loading by order: a nested model's layers, split from its group in the
// order its weights name them, follow the model's order where both hold
// the same layers (a partly frozen backbone lists its trainable layers'
// weights first).
void follow_model_order(std::vector<FileLayer>& in_file, const std::vector<nn::LayerPtr>& weighted) {
  for (size_t begin = 0; begin < in_file.size();) {
    size_t end = begin + 1;
    if (in_file[begin].nested.empty()) {
      begin = end;
      continue;
    }
    while (end < in_file.size() && in_file[end].nested == in_file[begin].nested) ++end;
    std::vector<FileLayer> ordered;
    for (size_t i = begin; i < end && i < weighted.size(); ++i)
      for (size_t j = begin; j < end; ++j)
        if (in_file[j].mapped == weighted[i]->name()) ordered.push_back(in_file[j]);
    if (ordered.size() == end - begin)
      std::copy(ordered.begin(), ordered.end(), in_file.begin() + static_cast<std::ptrdiff_t>(begin));
    begin = end;
  }
}

std::string quoted_list(const std::vector<std::string>& names, size_t limit = 8) {
  std::string s;
  for (size_t i = 0; i < names.size() && i < limit; ++i) s += (i ? ", '" : "'") + names[i] + "'";
  if (names.size() > limit) s += str_cat(" and ", names.size() - limit, " more");
  return s;
}

// One weight to set: checked in full before anything is written.
using Assignment = WeightAssignment;

// Matches a file layer's datasets to a model layer's weights, in order.
void match_layer(nn::Layer& layer, const FileLayer& f, std::vector<Assignment>& out) {
  std::vector<nn::Weight>& ws = layer.weights();
  std::string where = "layer '" + layer.name() + "'";
  if (f.name != layer.name()) where += " (file layer '" + f.name + "')";
  if (!f.nested.empty()) where += " of nested model '" + f.nested + "'";
  if (f.weight_names.size() != ws.size())
    throw ValueError(str_cat(
        "Keras weights: ", where, " has ", ws.size(), " weights (",
        [&] {
          std::vector<std::string> n;
          for (const nn::Weight& w : ws) n.push_back(w.name);
          return quoted_list(n);
        }(),
        ") but the file holds ", f.weight_names.size(), " (", quoted_list(f.weight_names), ")"));
  for (size_t i = 0; i < ws.size(); ++i) {
    const H5Dataset* d = f.group->find_dataset(f.weight_names[i]);
    if (!d)
      throw ValueError("Keras weights: " + where + ": the file lists weight '" + f.weight_names[i] +
                       "' but has no dataset for it");
    if (d->shape != ws[i].value.shape())
      throw ValueError(str_cat("Keras weights: ", where, ", weight '", ws[i].name,
                               "': the model expects shape ", shape_str(ws[i].value.shape()),
                               ", the file has ", shape_str(d->shape), " ('", f.weight_names[i], "')"));
    out.push_back({&ws[i], d});
  }
}

// Only the BatchNormalization layers the legacy file filled: a head's, or
// one it had no weights for, keeps its own epsilon.
void set_legacy_epsilon(nn::Model& model, const std::vector<Assignment>& plan, KerasWeightsReport& report) {
  int64_t n = 0;
  for (const nn::LayerPtr& l : model.layers())
    if (auto* bn = dynamic_cast<nn::BatchNormalization*>(l.get())) {
      bool loaded = false;
      for (const Assignment& a : plan)
        for (const nn::Weight& w : bn->weights()) loaded = loaded || a.weight == &w;
      if (!loaded) continue;
      bn->set_epsilon(kLegacyResNetEpsilon);
      ++n;
    }
  if (n)
    report.notes.push_back(str_cat("keras-applications 0.2 layer names: mapped onto the current names; ", n,
                                   " BatchNormalization layers now use that release's epsilon 1e-3"));
}

// Keras's save_attributes_to_hdf5_group: a string list whose fixed-length
// array would pass HDF5's 64512-byte object header limit is split into
// name0, name1, ... chunks of near-equal length (numpy's array_split).
void put_string_list(H5Group& g, const std::string& name, const std::vector<std::string>& values) {
  constexpr size_t kHeaderLimit = 64512;
  size_t width = 1;
  for (const std::string& v : values) width = std::max(width, v.size());
  size_t chunks = 1;
  while ((values.size() / chunks + (values.size() % chunks ? 1 : 0)) * width > kHeaderLimit) ++chunks;
  if (chunks == 1) {
    g.string_list_attrs[name] = values;
    return;
  }
  const size_t base = values.size() / chunks, extra = values.size() % chunks;
  size_t at = 0;
  for (size_t c = 0; c < chunks; ++c) {
    const size_t n = base + (c < extra ? 1 : 0);
    g.string_list_attrs[name + std::to_string(c)] =
        std::vector<std::string>(values.begin() + static_cast<std::ptrdiff_t>(at),
                                 values.begin() + static_cast<std::ptrdiff_t>(at + n));
    at += n;
  }
}

void write_layer_group(H5Group& root, const nn::Layer& layer) {
  H5Group& g = root.group(layer.name());
  std::vector<std::string> names;
  for (const nn::Weight& w : layer.weights()) {
    // tf.keras 2.x names a weight "<layer>/<weight>:0" and h5py makes the
    // '/' a subgroup: <layer>/<layer>/kernel:0.
    const std::string full = layer.name() + "/" + w.name + ":0";
    names.push_back(full);
    g.set_dataset(full, {w.value.shape(), w.value.to_vector()});  // from any device
  }
  put_string_list(g, "weight_names", names);
}

nlohmann::ordered_json training_config(const nn::Model& model) {
  nlohmann::ordered_json t;
  t["loss"] = model.loss_name();
  nlohmann::ordered_json metrics = nlohmann::ordered_json::array();
  for (const std::string& m : model.metric_names()) metrics.push_back(m);
  t["metrics"] = metrics;
  t["weighted_metrics"] = nullptr;
  t["loss_weights"] = nullptr;
  t["optimizer_config"] = {{"class_name", model.optimizer().class_name()},
                           {"config", model.optimizer().config()}};
  return t;
}

}  // namespace

int64_t apply_weight_plan(const std::vector<WeightAssignment>& plan) {
  int64_t values = 0;
  for (const WeightAssignment& a : plan) {
    Tensor& w = a.weight->value;
    if (w.device() == Device::CPU)
      std::memcpy(w.data(), a.data->values.data(), a.data->values.size() * sizeof(float));
    else
      w.copy_from(Tensor(w.shape(), a.data->values));  // a model already on a GPU
    values += static_cast<int64_t>(a.data->values.size());
  }
  return values;
}

std::string modern_resnet_layer_name(const std::string& name) {
  if (name == "conv1") return "conv1_conv";
  if (name == "bn_conv1") return "conv1_bn";
  if (name == "fc1000") return "predictions";
  // res<stage 2-5><block letter>_branch<1 | 2a | 2b | 2c>, and bn<...> alike.
  // Matched by hand: std::regex was a third of this file's compile time.
  std::string_view rest = name;
  const bool res = rest.substr(0, 3) == "res";
  if (!res && rest.substr(0, 2) != "bn") return name;
  rest.remove_prefix(res ? 3 : 2);
  if (rest.size() < 3 || rest[0] < '2' || rest[0] > '5' || rest[1] < 'a' || rest[1] > 'z') return name;
  const char stage = rest[0];
  const int block = rest[1] - 'a' + 1;
  rest.remove_prefix(2);
  if (rest.substr(0, 7) != "_branch") return name;
  rest.remove_prefix(7);
  const char* part = rest == "1"    ? "0"
                     : rest == "2a" ? "1"
                     : rest == "2b" ? "2"
                     : rest == "2c" ? "3"
                                    : nullptr;
  if (!part) return name;
  return str_cat("conv", stage, "_block", block, "_", part, res ? "_conv" : "_bn");
}

KerasWeightsReport load_keras_weights(nn::Model& model, const H5Group& file,
                                      const KerasWeightsOptions& options) {
  // Keras 3's .weights.h5 keeps no layer names: it goes by the model's structure.
  if (is_keras3_weights(file)) {
    KerasWeightsReport r = load_keras3_weights(model, file);
    if (options.by_name)
      r.notes.push_back("a Keras 3 weights file keeps no layer names: loaded by the model's structure");
    return r;
  }
  KerasWeightsReport report;
  // Only loading by name looks through a nested model's group to its layer.
  std::vector<FileLayer> in_file =
      file_layers(weights_root(file), &report.legacy_names,
                  options.by_name ? nested_model_names(file) : std::set<std::string>{});
  std::vector<nn::LayerPtr> weighted;
  for (const nn::LayerPtr& l : keras_layers(model))
    if (!l->weights().empty()) weighted.push_back(l);

  std::vector<Assignment> plan;
  // keras-applications 0.2 built each first block's shortcut after its main
  // branch, so its layer order differs from today's: its files are matched
  // by (mapped) name, never by position.
  const bool by_name = options.by_name || report.legacy_names;
  if (!by_name) {
    follow_model_order(in_file, weighted);
    if (in_file.size() != weighted.size()) {
      // Name the first place where the two lists part, so a file of another
      // model (or with / without the top) is easy to recognise.
      size_t i = 0;
      while (i < in_file.size() && i < weighted.size() && in_file[i].mapped == weighted[i]->name()) ++i;
      std::string where;
      if (i < in_file.size() && i < weighted.size())
        where = "; they first differ at position " + std::to_string(i + 1) + ": the model's '" +
                weighted[i]->name() + "', the file's '" + in_file[i].name + "'";
      else if (i < in_file.size())
        where = "; the file has more, starting with '" + in_file[i].name + "'";
      else
        where = "; the model has more, starting with '" + weighted[i]->name() + "'";
      throw ValueError(str_cat("Keras weights: the model has ", weighted.size(),
                               " layers with weights, the file ", in_file.size(), where));
    }
    std::vector<std::string> renamed;
    for (size_t i = 0; i < in_file.size(); ++i) {
      match_layer(*weighted[i], in_file[i], plan);
      if (in_file[i].mapped != weighted[i]->name())
        renamed.push_back("'" + in_file[i].name + "' -> '" + weighted[i]->name() + "'");
    }
    if (!renamed.empty()) {
      std::string list;
      for (size_t i = 0; i < renamed.size() && i < 8; ++i) list += (i ? ", " : "") + renamed[i];
      if (renamed.size() > 8) list += str_cat(" and ", renamed.size() - 8, " more");
      report.notes.push_back(
          str_cat("loaded by order: ", renamed.size(), " file layer(s) have other names: ", list));
    }
    report.layers = static_cast<int64_t>(weighted.size());
  } else {
    std::vector<std::string> missing, skipped;
    std::set<std::string> model_names, file_names;
    for (const nn::LayerPtr& l : weighted) model_names.insert(l->name());
    for (const FileLayer& f : in_file) file_names.insert(f.mapped);
    // The model layer a file layer fills: its own name, else its alias where
    // no model layer has that name and no file layer is named the alias.
    const auto target = [&](const FileLayer& f) {
      return model_names.count(f.mapped) || f.alias.empty() || file_names.count(f.alias) ? f.mapped : f.alias;
    };
    for (const nn::LayerPtr& l : weighted) {
      const FileLayer* match = nullptr;
      for (const FileLayer& f : in_file)
        if (target(f) == l->name()) match = &f;
      if (!match) {
        missing.push_back(l->name());
        continue;
      }
      match_layer(*l, *match, plan);
      ++report.layers;
    }
    for (const FileLayer& f : in_file)
      if (!model_names.count(target(f))) skipped.push_back(f.name);
    // The file's unmatched names beside the missing ones: Keras numbers its
    // default names per session ('conv2d_3' in the file, 'conv2d' here).
    if (!missing.empty() && !options.allow_missing)
      throw ValueError("Keras weights: the file has no weights for layer(s) " + quoted_list(missing) +
                       " of the model (loading by name)" +
                       (skipped.empty() ? std::string() : "; the file has instead " + quoted_list(skipped)));
    if (!missing.empty())
      report.notes.push_back("left as they were (not in the file): " + quoted_list(missing));
    if (!skipped.empty())
      report.notes.push_back("file layers not in the model, skipped: " + quoted_list(skipped));
  }

  report.values = apply_weight_plan(plan);
  if (report.legacy_names) set_legacy_epsilon(model, plan, report);
  return report;
}

// A nested backbone as one group, its weights
// listed as Keras's layer.weights lists a model's: a trainable model's
// trainable weights (of its trainable layers) first, then the rest, each in
// layer order; a frozen model's layer by layer. Keras loads them by position.
void write_nested_group(H5Group& root, const nn::NestedLayout& nl) {
  H5Group& g = root.group(nl.nested->name);
  std::vector<std::string> names;
  for (int pass = 0; pass < (nl.trainable ? 2 : 1); ++pass)
    for (const nn::LayerPtr& l : nl.inner)
      for (const nn::Weight& w : l->weights()) {
        if (nl.trainable && l->weight_trainable(w) != (pass == 0)) continue;
        const std::string full = l->name() + "/" + w.name + ":0";
        names.push_back(full);
        g.set_dataset(full, {w.value.shape(), w.value.to_vector()});
      }
  put_string_list(g, "weight_names", names);
}

void save_keras_weights(const nn::Model& model, H5Group& file) {
  std::vector<std::string> names;
  std::vector<nn::LayerPtr> layers = keras_layers(model);
  const std::optional<nn::NestedLayout> nl = nn::nested_layout(model);
  if (nl) layers = nl->model_layers();  // the backbone (null) one of them
  for (const nn::LayerPtr& l : layers) {
    if (!l) {
      names.push_back(nl->nested->name);
      write_nested_group(file, *nl);
      continue;
    }
    names.push_back(l->name());
    write_layer_group(file, *l);
  }
  put_string_list(file, "layer_names", names);
  file.string_attrs["backend"] = kBackend;
  file.string_attrs["keras_version"] = kKerasVersion;
}

void save_keras_model(const nn::Model& model, H5Group& file, const std::string& metadata) {
  file.string_attrs["keras_version"] = kKerasVersion;
  file.string_attrs["backend"] = kBackend;
  file.string_attrs["model_config"] = model_to_json(model);
  if (model.compiled()) file.string_attrs["training_config"] = python_dumps(training_config(model));
  if (!metadata.empty()) file.string_attrs[kMetadataAttr] = metadata;
  if (!model.preprocessing().empty()) file.string_attrs[kPreprocessingAttr] = model.preprocessing();
  save_keras_weights(model, file.group("model_weights"));
}

bool is_keras_model_file(const H5Group& file) { return file.string_attrs.count("model_config") > 0; }

std::unique_ptr<nn::Model> load_keras_model(const H5Group& file, std::string* metadata) {
  auto config = file.string_attrs.find("model_config");
  if (config == file.string_attrs.end())
    throw ValueError(
        "Keras model file: no 'model_config' attribute; this looks like a weights-only file "
        "(model.save_weights): build the model first, then load the weights into it");
  std::unique_ptr<nn::Model> model = model_from_json(config->second);
  if (!file.find_group("model_weights"))
    throw ValueError(
        "Keras model file: no 'model_weights' group (expected the layout of Keras's model.save)");
  load_keras_weights(*model, *file.find_group("model_weights"));
  if (auto t = file.string_attrs.find("training_config"); t != file.string_attrs.end()) {
    nlohmann::json tc;
    try {
      tc = nlohmann::json::parse(t->second);
    } catch (const nlohmann::json::exception& e) {
      throw ValueError(std::string("Keras model file: training_config is not JSON: ") + e.what());
    }
    // Compiled only when the loss and optimizer are known here (a model that
    // trained with, say, RMSprop loads uncompiled, to be compiled again, as
    // Keras's load_model(compile=False)); of the metrics, the accuracies are
    // kept. Keras 2 nests them: [["accuracy"]] or MeanMetricWrapper objects.
    if (tc.is_object() && tc.contains("loss") && tc["loss"].is_string() && tc.contains("optimizer_config")) {
      std::vector<std::string> metrics;
      std::function<void(const nlohmann::json&)> collect = [&](const nlohmann::json& m) {
        std::string name;
        if (m.is_array()) {
          for (const auto& e : m) collect(e);
        } else if (m.is_string()) {
          name = m.get<std::string>();
        } else if (m.is_object() && m.contains("config") && m["config"].is_object() &&
                   m["config"].contains("name") && m["config"]["name"].is_string()) {
          name = m["config"]["name"].get<std::string>();
        }
        for (const char* known :
             {"accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy", "binary_accuracy"})
          if (name == known && std::find(metrics.begin(), metrics.end(), name) == metrics.end())
            metrics.push_back(name);
      };
      if (tc.contains("metrics")) collect(tc["metrics"]);
      try {
        model->compile(optim::optimizer_from_config(tc["optimizer_config"]), tc["loss"].get<std::string>(),
                       metrics);
      } catch (const ValueError&) {
        // left uncompiled, as Keras's load_model(compile=False): fit() then asks for compile()
      }
    }
  }
  if (auto p = file.string_attrs.find(kPreprocessingAttr); p != file.string_attrs.end())
    model->set_preprocessing(p->second);
  if (metadata) {
    auto m = file.string_attrs.find(kMetadataAttr);
    *metadata = m == file.string_attrs.end() ? "" : m->second;
  }
  return model;
}

}  // namespace cnn::io
