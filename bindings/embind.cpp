// Embind glue between JavaScript and core/. Thin by design: it converts
// values and forwards calls; the JS API (bindings/js/) gives it Keras's shape.
//
// Errors: every entry point catches C++ exceptions and keeps the message;
// the JS side calls takeError() after each call and throws an Error with it.
// Returning normally (instead of throwing through embind) leaks nothing.
#include <emscripten/bind.h>
#include <emscripten/heap.h>
#include <emscripten/val.h>
#include <malloc.h>

#include <chrono>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "cnn/data/flow.h"
#include "cnn/data/image.h"
#include "cnn/data/preprocess.h"
#include "cnn/data/synthetic.h"
#include "cnn/error.h"
#include "cnn/io/hdf5_tree.h"
#include "cnn/io/keras3.h"
#include "cnn/io/keras_h5.h"
#include "cnn/io/keras_json.h"
#include "cnn/io/model_bytes.h"
#include "cnn/kernels/gemm.h"
#include "cnn/kernels/isa.h"
#include "cnn/memory.h"
#include "cnn/nn/model.h"
#include "cnn/nn/presets.h"
#include "cnn/nn/resnet50.h"
#include "cnn/optim/optimizer.h"
#include "cnn/parallel.h"
#include "cnn/rng.h"
#include "cnn/train/fit_loop.h"

using emscripten::val;
using nlohmann::json;

namespace {

std::string g_error;

template <typename F, typename R = std::invoke_result_t<F>>
R guard(F&& f) {
  try {
    g_error.clear();
    return f();
  } catch (const std::exception& e) {
    g_error = e.what();
  } catch (...) {
    g_error = "unknown C++ exception";
  }
  if constexpr (std::is_same_v<R, val>)
    return val::null();
  else if constexpr (!std::is_void_v<R>)
    return R{};
}

std::string take_error() {
  std::string e;
  e.swap(g_error);
  return e;
}

json logs_json(const cnn::train::Logs& logs) {
  json j = json::object();
  for (const auto& [k, v] : logs) j[k] = v;
  return j;
}

// A tensor owned by wasm memory.
class JsTensor {
 public:
  JsTensor() = default;
  explicit JsTensor(cnn::Tensor t) : t_(std::move(t)) {}
  static JsTensor* create(const val& shape) {
    return guard([&]() -> JsTensor* {
      cnn::Shape s;
      const unsigned n = shape["length"].as<unsigned>();
      for (unsigned i = 0; i < n; ++i) {
        const double d = shape[i].as<double>();
        if (!(d >= 0) || d != static_cast<double>(static_cast<int64_t>(d)))
          throw cnn::ShapeError("tensor: shape entries must be non-negative integers");
        s.push_back(static_cast<int64_t>(d));
      }
      return new JsTensor(cnn::Tensor(s));
    });
  }
  val shape() const {
    val a = val::array();
    for (int64_t d : t_.shape()) a.call<void>("push", static_cast<double>(d));
    return a;
  }
  // A Float32Array over wasm memory: no copy, valid until the heap grows or
  // the tensor is disposed. The JS API copies out of it (dataSync) or fills it.
  val view() { return val(emscripten::typed_memory_view(static_cast<size_t>(t_.numel()), t_.data())); }
  double size() const { return static_cast<double>(t_.numel()); }
  const cnn::Tensor& tensor() const { return t_; }

 private:
  cnn::Tensor t_;
};

class JsGradients {
 public:
  explicit JsGradients(cnn::nn::Model::Gradients g) : g_(std::move(g)) {}
  JsTensor* output() const { return new JsTensor(g_.output); }
  JsTensor* inputGrad() const { return new JsTensor(g_.input_grad); }
  int weightCount() const { return static_cast<int>(g_.weight_grads.size()); }
  JsTensor* weightGrad(int i) const {
    return guard([&]() -> JsTensor* { return new JsTensor(g_.weight_grads.at(static_cast<size_t>(i))); });
  }
  double loss() const { return g_.loss; }

 private:
  cnn::nn::Model::Gradients g_;
};

// Several tensors returned by one call (layer outputs).
class JsTensorList {
 public:
  explicit JsTensorList(std::vector<cnn::Tensor> ts) : ts_(std::move(ts)) {}
  int count() const { return static_cast<int>(ts_.size()); }
  JsTensor* at(int i) const {
    return guard([&]() -> JsTensor* { return new JsTensor(ts_.at(static_cast<size_t>(i))); });
  }

 private:
  std::vector<cnn::Tensor> ts_;
};

// An option's value, or `def` when it is absent; a value of another type is
// named with the one expected (not nlohmann's type_error.302).
template <class T>
T option(const json& j, const char* who, const char* key, T def, const char* expected) {
  if (!j.contains(key) || j[key].is_null()) return def;
  const json& v = j[key];
  const bool ok = std::is_same_v<T, bool>          ? v.is_boolean()
                  : std::is_same_v<T, std::string> ? v.is_string()
                  : std::is_unsigned_v<T>          ? v.is_number_unsigned()
                  : std::is_integral_v<T>          ? v.is_number_integer()
                                                   : v.is_number();
  if (!ok)
    throw cnn::ValueError(std::string(who) + ": " + key + " must be " + expected + ", got " + v.dump());
  return v.get<T>();
}

// targetSize: [height, width], both whole numbers of at least 1.
std::pair<int64_t, int64_t> target_size(const json& j, const char* who, std::pair<int64_t, int64_t> def) {
  if (!j.contains("targetSize")) return def;
  const json& v = j["targetSize"];
  if (!v.is_array() || v.size() != 2 || !v[0].is_number_integer() || !v[1].is_number_integer() ||
      v[0].get<int64_t>() < 1 || v[1].get<int64_t>() < 1)
    throw cnn::ValueError(std::string(who) +
                          ": targetSize must be [height, width], two whole numbers of at least 1, got " +
                          v.dump());
  return {v[0].get<int64_t>(), v[1].get<int64_t>()};
}

// keras.utils.load_img + img_to_array: one image file -> (1, H, W, C).
JsTensor* load_image(const val& bytes, const std::string& options) {
  return guard([&]() -> JsTensor* {
    const json o = json::parse(options);
    if (!o.contains("targetSize"))
      throw cnn::ValueError("loadImage: targetSize ([height, width]) is required");
    const auto [height, width] = target_size(o, "loadImage", {0, 0});
    const std::vector<uint8_t> b = emscripten::convertJSArrayToNumberVector<uint8_t>(bytes);
    cnn::Tensor t = cnn::data::image_tensor(
        b.data(), b.size(), option(o, "loadImage", "name", std::string("image"), "a string"), height, width,
        cnn::data::parse_color_mode(option(o, "loadImage", "colorMode", std::string("rgb"), "a string")),
        cnn::data::parse_interpolation(
            option(o, "loadImage", "interpolation", std::string("nearest"), "a string")),
        option(o, "loadImage", "rescale", 1.0f, "a number"),
        option(o, "loadImage", "preprocessing", std::string(), "a string"));
    return new JsTensor(std::move(t));
  });
}

// The files of an uploaded dataset folder, copied into wasm memory once and
// shared by every flow made from them (training and validation subsets).
class JsFileSet {
 public:
  JsFileSet() : files_(std::make_shared<cnn::data::MemoryFiles>()) {}
  void add(const std::string& path, const val& bytes) {
    guard([&] { files_->add(path, emscripten::convertJSArrayToNumberVector<uint8_t>(bytes)); });
  }
  void addFolder(const std::string& name) { files_->add_folder(name); }
  double size() const { return static_cast<double>(files_->size()); }
  std::shared_ptr<cnn::data::MemoryFiles> files() const { return files_; }

 private:
  std::shared_ptr<cnn::data::MemoryFiles> files_;
};

class JsImageFlow {
 public:
  static JsImageFlow* create(const JsFileSet& files, const std::string& options) {
    return guard([&]() -> JsImageFlow* {
      json j = json::parse(options);
      cnn::data::FlowOptions o;
      const char* who = "flow";
      std::tie(o.target_height, o.target_width) = target_size(j, who, {o.target_height, o.target_width});
      o.color_mode = cnn::data::parse_color_mode(option(j, who, "colorMode", std::string("rgb"), "a string"));
      o.interpolation =
          cnn::data::parse_interpolation(option(j, who, "interpolation", std::string("nearest"), "a string"));
      o.class_mode =
          cnn::data::parse_class_mode(option(j, who, "classMode", std::string("categorical"), "a string"));
      o.batch_size = option(j, who, "batchSize", static_cast<int64_t>(32), "a whole number");
      o.shuffle = option(j, who, "shuffle", true, "true or false");
      o.seed = option(j, who, "seed", static_cast<uint64_t>(0), "a whole number of at least 0");
      o.rescale = option(j, who, "rescale", 0.0f, "a number");
      o.preprocessing = option(j, who, "preprocessing", std::string(), "a string");
      o.validation_split = option(j, who, "validationSplit", 0.0, "a number");
      o.subset = cnn::data::parse_subset(option(j, who, "subset", std::string(), "a string"));
      o.augment = cnn::data::AugmentOptions::parse(option(j, who, "augment", std::string(), "a string"));
      // Bytes past what size_t holds (4 GiB in wasm) are all of memory, not a wrapped few.
      o.memory_budget = static_cast<size_t>(std::min<uint64_t>(
          option(j, who, "memoryBudget", static_cast<uint64_t>(o.memory_budget), "a whole number of bytes"),
          std::numeric_limits<size_t>::max()));
      o.decode_upfront = option(j, who, "decodeUpfront", true, "true or false");
      return new JsImageFlow(std::make_shared<cnn::data::ImageFlow>(files.files(), o));
    });
  }
  std::string info() const {
    return guard([&] {
      json indices = json::object();
      for (const auto& [k, v] : flow_->listing().class_indices) indices[k] = v;
      return json{{"foundMessage", flow_->found_message()},
                  {"classIndices", indices},
                  {"classes", flow_->classes()},
                  {"perClass", flow_->listing().per_class},
                  {"samples", flow_->num_samples()},
                  {"length", flow_->num_batches()},
                  {"skipped", flow_->listing().skipped},
                  {"skippedWarning", flow_->listing().skipped_warning()},
                  {"emptyWarning", flow_->listing().empty_warning()},
                  {"unreadable", flow_->unreadable()},
                  {"augmenting", flow_->augmenting()},
                  {"prepared", flow_->prepared()}}
          .dump();
    });
  }
  // onProgress(done, total), when a function: about a hundred times over
  // the folder, and once at the end (decoding a big folder takes minutes).
  void prepare(const val& on_progress) {
    guard([&] {
      if (on_progress.typeOf().as<std::string>() != "function") return flow_->prepare();
      flow_->prepare([&](size_t done, size_t total) {
        if (done == total || done % std::max<size_t>(1, total / 100) == 0)
          on_progress(static_cast<double>(done), static_cast<double>(total));
      });
    });
  }
  // next(): (x, y) of the endless iterator; the tensors are taken with x()/y().
  void next() {
    guard([&] { last_ = flow_->next(); });
  }
  void batch(double index) {
    guard([&] { last_ = flow_->batch(static_cast<int64_t>(index)); });
  }
  // Starts pass `epoch` (its shuffle and augmentation draws) before batch().
  void setEpoch(double epoch) {
    guard([&] { flow_->on_epoch_begin(static_cast<int>(epoch)); });
  }
  JsTensor* x() const { return new JsTensor(last_.first); }
  JsTensor* y() const { return new JsTensor(last_.second); }
  std::shared_ptr<cnn::data::ImageFlow> flow() const { return flow_; }

 private:
  explicit JsImageFlow(std::shared_ptr<cnn::data::ImageFlow> f) : flow_(std::move(f)) {}
  std::shared_ptr<cnn::data::ImageFlow> flow_;
  std::pair<cnn::Tensor, cnn::Tensor> last_;
};

// A Keras HDF5 file's content (io::H5Group): the JS side fills it from
// h5wasm when reading a file, and walks it into h5wasm when writing one.
class JsKerasFile {
 public:
  void addGroup(const std::string& path) {
    guard([&] { tree_.group(path); });
  }
  void setAttr(const std::string& path, const std::string& name, const std::string& value) {
    guard([&] { tree_.group(path).string_attrs[name] = value; });
  }
  void setListAttr(const std::string& path, const std::string& name, const std::string& json_list) {
    guard([&] {
      tree_.group(path).string_list_attrs[name] = json::parse(json_list).get<std::vector<std::string>>();
    });
  }
  // Makes a float32 dataset and returns a view of its values for JS to fill
  // at once (the view dies when the heap grows).
  val addDataset(const std::string& path, const val& shape) {
    return guard([&]() -> val {
      cnn::io::H5Dataset d;
      const unsigned n = shape["length"].as<unsigned>();
      for (unsigned i = 0; i < n; ++i) d.shape.push_back(static_cast<int64_t>(shape[i].as<double>()));
      const int64_t count = cnn::shape_numel(d.shape);
      if (count < 0 || count > (int64_t{1} << 30))
        throw cnn::ValueError("Keras file: dataset '" + path + "' has an unsupported shape " +
                              cnn::shape_str(d.shape));
      d.values.resize(static_cast<size_t>(count));
      tree_.set_dataset(path, std::move(d));
      return dataset(path);
    });
  }
  val dataset(const std::string& path) {
    return guard([&]() -> val {
      const cnn::io::H5Dataset* d = tree_.find_dataset(path);
      if (!d) throw cnn::ValueError("Keras file: no dataset '" + path + "'");
      auto* values = const_cast<float*>(d->values.data());
      return val(emscripten::typed_memory_view(d->values.size(), values));
    });
  }
  // The tree without the values: {attrs, listAttrs, groups: {name: ...},
  // datasets: {name: shape}}.
  std::string listing() const {
    return guard([&] { return describe(tree_).dump(); });
  }
  bool isModel() const { return cnn::io::is_keras_model_file(tree_); }
  const cnn::io::H5Group& tree() const { return tree_; }
  cnn::io::H5Group& tree() { return tree_; }

 private:
  static json describe(const cnn::io::H5Group& g) {
    json out{{"attrs", g.string_attrs},
             {"listAttrs", g.string_list_attrs},
             {"groups", json::object()},
             {"datasets", json::object()}};
    for (const auto& [name, child] : g.groups) out["groups"][name] = describe(*child);
    for (const auto& [name, d] : g.datasets) out["datasets"][name] = d.shape;
    return out;
  }
  cnn::io::H5Group tree_;
};

class JsModel {
 public:
  explicit JsModel(std::unique_ptr<cnn::nn::Model> m) : m_(std::move(m)) {}

  static JsModel* fromJson(const std::string& text, double seed) {
    return guard([&]() -> JsModel* {
      return new JsModel(cnn::io::model_from_json(text, static_cast<uint64_t>(seed)));
    });
  }
  static JsModel* lenet(double h, double w, double c, double classes, double seed) {
    return guard([&]() -> JsModel* {
      return new JsModel(
          cnn::nn::lenet({static_cast<int64_t>(h), static_cast<int64_t>(w), static_cast<int64_t>(c)},
                         static_cast<int64_t>(classes), static_cast<uint64_t>(seed)));
    });
  }
  static JsModel* courseCnn(double h, double w, double c, double classes, double seed) {
    return guard([&]() -> JsModel* {
      return new JsModel(
          cnn::nn::course_cnn({static_cast<int64_t>(h), static_cast<int64_t>(w), static_cast<int64_t>(c)},
                              static_cast<int64_t>(classes), static_cast<uint64_t>(seed)));
    });
  }
  // keras.applications.ResNet50's architecture, randomly initialised; options
  // as JSON: {includeTop, inputShape, classes, pooling, classifierActivation, seed}.
  static JsModel* resnet50(const std::string& options_json) {
    return guard([&]() -> JsModel* {
      const auto j = nlohmann::json::parse(options_json);
      cnn::nn::ResNet50Options o;
      o.include_top = j.value("includeTop", o.include_top);
      if (j.contains("inputShape")) o.input_shape = j["inputShape"].get<cnn::Shape>();
      o.classes = j.value("classes", o.classes);
      o.pooling = j.value("pooling", o.pooling);
      o.classifier_activation = j.value("classifierActivation", o.classifier_activation);
      o.seed = j.value("seed", o.seed);
      // A smaller ResNet of the same structure and names (tests, quick runs).
      if (j.contains("architecture") && !j["architecture"].is_null()) {
        const json& a = j["architecture"];
        cnn::nn::ResNetArchitecture arch;
        arch.stem_filters = a.value("stemFilters", arch.stem_filters);
        if (a.contains("blocks")) arch.blocks = a["blocks"].get<std::array<int, 4>>();
        if (a.contains("filters")) arch.filters = a["filters"].get<std::array<int64_t, 4>>();
        return new JsModel(cnn::nn::resnet(arch, o, "resnet"));
      }
      return new JsModel(cnn::nn::resnet50(o));
    });
  }
  // keras.models.load_model of a Keras HDF5 model file.
  static JsModel* loadKeras(const JsKerasFile& file) {
    return guard([&]() -> JsModel* {
      std::string meta;
      auto* out = new JsModel(cnn::io::load_keras_model(file.tree(), &meta));
      out->metadata_ = std::move(meta);
      return out;
    });
  }
  // keras.saving.load_model of a .keras archive: config.json's text and its
  // model.weights.h5 (read by h5wasm).
  static JsModel* loadKeras3(const JsKerasFile& file, const std::string& config) {
    return guard([&]() -> JsModel* { return new JsModel(cnn::io::load_keras3_model(config, file.tree())); });
  }
  // Sequential([backbone, *head]): `head` a JSON array of Keras layer
  // configs ({class_name, config}); the backbone's layers are shared.
  static JsModel* stackOn(const JsModel& backbone, const std::string& head_json, const std::string& name,
                          double seed) {
    return guard([&]() -> JsModel* {
      std::vector<cnn::nn::LayerPtr> head;
      for (const json& l : json::parse(head_json))
        head.push_back(cnn::io::layer_from_config(l.at("class_name").get<std::string>(), l.at("config")));
      return new JsModel(cnn::nn::stack_on(*backbone.m_, head, name, static_cast<uint64_t>(seed)));
    });
  }
  // Keras weights into this model; the loader's report as JSON.
  std::string loadKerasWeights(const JsKerasFile& file, bool by_name, bool allow_missing) {
    return guard([&] {
      const cnn::io::KerasWeightsReport r =
          cnn::io::load_keras_weights(*m_, file.tree(), {.by_name = by_name, .allow_missing = allow_missing});
      return json{
          {"layers", r.layers}, {"values", r.values}, {"legacyNames", r.legacy_names}, {"notes", r.notes}}
          .dump();
    });
  }
  // model.save (Keras's full-model layout) or model.save_weights.
  JsKerasFile* saveKeras(const std::string& metadata, bool weights_only) const {
    return guard([&]() -> JsKerasFile* {
      auto* f = new JsKerasFile();
      if (weights_only)
        cnn::io::save_keras_weights(*m_, f->tree());
      else
        cnn::io::save_keras_model(*m_, f->tree(), metadata);
      return f;
    });
  }
  std::string preprocessing() const { return m_->preprocessing(); }
  void setPreprocessing(const std::string& mode) {
    guard([&] { m_->set_preprocessing(mode); });
  }
  void setTrainable(bool on) {
    guard([&] { m_->set_trainable(on); });
  }
  // The bytes come as a typed array copied in one set() (embind's std::string
  // copies byte by byte: 2.4 s for 100 MiB in Node 20).
  static JsModel* load(const val& bytes) {
    return guard([&]() -> JsModel* {
      std::string meta;
      const std::vector<uint8_t> b = emscripten::convertJSArrayToNumberVector<uint8_t>(bytes);
      auto m = cnn::io::load_model_bytes(b.data(), b.size(), &meta);
      auto* out = new JsModel(std::move(m));
      out->metadata_ = std::move(meta);
      return out;
    });
  }
  // `metadata`: a JSON object text kept beside the model (class names, data
  // settings), or "".
  val save(const std::string& metadata) const {
    return guard([&]() -> val {
      std::vector<uint8_t> b = cnn::io::save_model_bytes(*m_, metadata);
      return val(emscripten::typed_memory_view(b.size(), b.data())).call<val>("slice");  // copy out
    });
  }

  std::string metadata() const { return metadata_; }

  std::string summary() const {
    return guard([&] { return m_->summary(); });
  }
  std::string toJson() const {
    return guard([&] { return cnn::io::model_to_json(*m_); });
  }
  std::string name() const { return m_->name(); }
  double countParams() const { return static_cast<double>(m_->count_params()); }
  double trainableParams() const { return static_cast<double>(m_->count_trainable_params()); }
  std::string info() const {
    return guard([&] {
      json layers = json::array();
      auto all = m_->layers();
      for (size_t i = 0; i < all.size(); ++i)
        layers.push_back({{"name", all[i]->name()},
                          {"className", all[i]->class_name()},
                          {"outputShape", m_->output_shape_of(i)},
                          {"params", all[i]->count_params()},
                          {"trainable", all[i]->trainable()}});
      json weights = json::array();
      for (const auto& l : all)
        for (const auto& w : l->weights())
          weights.push_back({{"name", l->name() + "/" + w.name},
                             {"shape", w.value.shape()},
                             {"trainable", l->weight_trainable(w)}});
      return json{{"layers", layers}, {"weights", weights}}.dump();
    });
  }
  void setLayerTrainable(const std::string& layer, bool on) {
    guard([&] { m_->get_layer(layer)->set_trainable(on); });
  }

  int weightCount() const { return static_cast<int>(m_->all_weights().size()); }
  JsTensor* getWeight(int i) const {
    return guard([&]() -> JsTensor* { return new JsTensor(weight(i).value.clone()); });
  }
  void setWeight(int i, const JsTensor& t) {
    guard([&] {
      cnn::nn::Weight& w = weight(i);
      if (w.value.shape() != t.tensor().shape())
        throw cnn::ShapeError("setWeights: weight " + std::to_string(i) + " ('" + w.name + "') has shape " +
                              cnn::shape_str(w.value.shape()) + ", got " +
                              cnn::shape_str(t.tensor().shape()));
      w.value.copy_from(t.tensor());
    });
  }

  void compile(const std::string& optimizer, const std::string& loss, const std::string& metrics) {
    guard([&] {
      auto opt = cnn::optim::optimizer_from_config(json::parse(optimizer));
      m_->compile(opt, loss, json::parse(metrics).get<std::vector<std::string>>());
    });
  }

  // Starts a fit; then fitStep() runs one batch at a time.
  void fitBegin(const JsTensor& x, const JsTensor& y, const std::string& options) {
    guard([&] {
      cnn::train::FitOptions o = fit_options(options);
      loop_.reset();
      loop_ = std::make_unique<cnn::train::FitLoop>(*m_, x.tensor(), y.tensor(), o);
    });
  }
  void fitBeginValidated(const JsTensor& x, const JsTensor& y, const JsTensor& vx, const JsTensor& vy,
                         const std::string& options) {
    guard([&] {
      cnn::train::FitOptions o = fit_options(options);
      o.validation_data = std::make_pair(vx.tensor(), vy.tensor());
      loop_.reset();
      loop_ = std::make_unique<cnn::train::FitLoop>(*m_, x.tensor(), y.tensor(), o);
    });
  }
  // Trains on an image flow; `val` may be null (no validation).
  void fitBeginFlow(const JsImageFlow& train, JsImageFlow* val, const std::string& options) {
    guard([&] {
      cnn::train::FitOptions o = fit_options(options);
      loop_.reset();
      train_flow_ = train.flow();
      val_flow_ = val ? val->flow() : nullptr;
      o.validation_dataset = val_flow_.get();
      loop_ = std::make_unique<cnn::train::FitLoop>(*m_, *train_flow_, o);
    });
  }
  bool fitStep() {
    return guard([&] {
      if (!loop_) throw cnn::ValueError("fit: no training in progress");
      return loop_->step();
    });
  }
  void fitStop() {
    guard([&] {
      if (loop_) loop_->stop();
    });
  }
  std::string fitState() const {
    return guard([&] {
      if (!loop_) throw cnn::ValueError("fit: no training in progress");
      const auto& l = *loop_;
      return json{{"epoch", l.epoch()},
                  {"batch", l.batch()},
                  {"steps", l.steps_per_epoch()},
                  {"samples", l.samples_seen()},
                  {"epochEnded", l.epoch_ended()},
                  {"closedEpochs", l.history().epoch.size()},
                  {"done", l.done()},
                  {"batchLogs", logs_json(l.batch_logs())},
                  {"epochLogs", logs_json(l.epoch_logs())}}
          .dump();
    });
  }
  std::string fitEnd() {
    return guard([&] {
      if (!loop_) throw cnn::ValueError("fit: no training in progress");
      json h = json::object();
      for (const auto& [k, v] : loop_->history().history) h[k] = v;
      json out{{"epoch", loop_->history().epoch}, {"history", h}};
      loop_.reset();
      train_flow_.reset();
      val_flow_.reset();
      return out.dump();
    });
  }

  std::string evaluate(const JsTensor& x, const JsTensor& y, double batch_size) {
    return guard([&] {
      return logs_json(m_->evaluate(x.tensor(), y.tensor(), static_cast<int64_t>(batch_size))).dump();
    });
  }
  JsTensor* predict(const JsTensor& x, double batch_size) {
    return guard([&]() -> JsTensor* {
      return new JsTensor(m_->predict(x.tensor(), static_cast<int64_t>(batch_size)));
    });
  }
  JsTensorList* layerOutputs(const JsTensor& x, const std::string& names) {
    return guard([&]() -> JsTensorList* {
      return new JsTensorList(
          m_->layer_outputs(x.tensor(), json::parse(names).get<std::vector<std::string>>()));
    });
  }
  JsGradients* vjp(const JsTensor& x, const JsTensor& gy, bool training) {
    return guard(
        [&]() -> JsGradients* { return new JsGradients(m_->vjp(x.tensor(), gy.tensor(), training)); });
  }
  JsGradients* lossGradients(const JsTensor& x, const JsTensor& y, bool training) {
    return guard([&]() -> JsGradients* {
      return new JsGradients(m_->loss_gradients(x.tensor(), y.tensor(), training));
    });
  }

 private:
  cnn::nn::Weight& weight(int i) const {
    auto all = m_->all_weights();
    if (i < 0 || static_cast<size_t>(i) >= all.size())
      throw cnn::ValueError("weight index " + std::to_string(i) + " out of range, the model has " +
                            std::to_string(all.size()) + " weights");
    return *all[static_cast<size_t>(i)];
  }
  static cnn::train::FitOptions fit_options(const std::string& text) {
    json j = json::parse(text);
    cnn::train::FitOptions o;
    const char* who = "fit";
    o.batch_size = option(j, who, "batchSize", static_cast<int64_t>(32), "a whole number");
    o.epochs = option(j, who, "epochs", 1, "a whole number");
    o.validation_split = option(j, who, "validationSplit", 0.0, "a number");
    o.shuffle = option(j, who, "shuffle", true, "true or false");
    o.seed = option(j, who, "seed", static_cast<uint64_t>(0), "a whole number of at least 0");
    o.steps_per_epoch = option(j, who, "stepsPerEpoch", static_cast<int64_t>(-1), "a whole number");
    o.validation_steps = option(j, who, "validationSteps", static_cast<int64_t>(-1), "a whole number");
    return o;
  }

  std::unique_ptr<cnn::nn::Model> m_;
  std::string metadata_;                                         // as loaded
  std::shared_ptr<cnn::data::ImageFlow> train_flow_, val_flow_;  // kept alive while a loop uses them
  std::unique_ptr<cnn::train::FitLoop> loop_;
};

class JsTask {
 public:
  explicit JsTask(cnn::data::SyntheticTask t) : t_(std::move(t)) {}
  JsTensor* x() const { return new JsTensor(t_.x); }
  JsTensor* y() const { return new JsTensor(t_.y); }

 private:
  cnn::data::SyntheticTask t_;
};

JsTask* synthetic_task(const std::string& options) {
  return guard([&]() -> JsTask* {
    json j = json::parse(options);
    cnn::data::SyntheticOptions o;
    o.samples = j.value("samples", o.samples);
    o.height = j.value("height", o.height);
    o.width = j.value("width", o.width);
    o.channels = j.value("channels", o.channels);
    o.classes = j.value("classes", o.classes);
    o.noise = j.value("noise", o.noise);
    o.seed = j.value("seed", o.seed);
    return new JsTask(cnn::data::make_synthetic_task(o));
  });
}

// PNG bytes of one image tensor (H, W, C) holding values in [0, 1].
val encode_png(const JsTensor& t) {
  return guard([&]() -> val {
    const cnn::Tensor& x = t.tensor();
    if (x.ndim() != 3)
      throw cnn::ShapeError("encodePng: expected an image of shape (height, width, channels), got " +
                            cnn::shape_str(x.shape()));
    cnn::data::Image img{x.dim(0), x.dim(1), x.dim(2), std::vector<uint8_t>(static_cast<size_t>(x.numel()))};
    for (int64_t i = 0; i < x.numel(); ++i)
      img.pixels[static_cast<size_t>(i)] =
          static_cast<uint8_t>(std::min(1.0f, std::max(0.0f, x[i])) * 255.0f + 0.5f);
    std::vector<uint8_t> png = cnn::data::encode_png(img);
    return val(emscripten::typed_memory_view(png.size(), png.data())).call<val>("slice");
  });
}

std::string build_info() {
#ifdef __EMSCRIPTEN_PTHREADS__
  const bool threads = true;
#else
  const bool threads = false;
#endif
  return json{{"threads", threads},
              {"hardwareConcurrency", std::thread::hardware_concurrency()},
              {"simd", cnn::kernels::sse41_target()}}
      .dump();
}

// Kernel figures for bench/wasm-bench.mjs, timed inside wasm after a
// warm-up (V8 runs a function's first calls in its baseline compiler).
// GFLOP/s of a square size^3 GEMM on the engine's threads.
std::string bench_gemm(int size, double seconds) {
  return guard([&] {
    const int64_t n = size;
    std::vector<float> a(static_cast<size_t>(n * n)), b(a.size()), c(a.size());
    cnn::Rng rng(1);
    for (float& v : a) v = rng.uniform(-1.0f, 1.0f);
    for (float& v : b) v = rng.uniform(-1.0f, 1.0f);
    const auto once = [&] {
      cnn::kernels::gemm(false, false, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    };
    for (int i = 0; i < 3; ++i) once();
    int64_t runs = 0;
    const auto t0 = std::chrono::steady_clock::now();
    double elapsed = 0;
    while (elapsed < seconds) {
      once();
      ++runs;
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    return json{{"size", size}, {"gflops", 2.0 * n * n * n * runs / elapsed * 1e-9}}.dump();
  });
}

// GFLOP/s of the register-only multiply-add loop (f32x4 mul + add in SIMD128,
// f32x4.relaxed_madd in the relaxed-SIMD modules) on every engine thread at
// once: the peak GEMM is measured against.
std::string bench_peak(double seconds) {
  return guard([&] {
    const int threads = cnn::num_threads();
    const int64_t iterations = int64_t{1} << 20;
    const auto round = [&] {
      std::vector<double> done(static_cast<size_t>(threads));
      cnn::parallel_for(threads, 1, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i)
          done[static_cast<size_t>(i)] = cnn::kernels::run_peak_flops_loop(iterations);
      });
      double f = 0;
      for (double d : done) f += d;
      return f;
    };
    for (int i = 0; i < 3; ++i) round();
    double flops = 0, elapsed = 0;
    const auto t0 = std::chrono::steady_clock::now();
    while (elapsed < seconds) {
      flops += round();
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    return json{{"threads", threads}, {"gflops", flops / elapsed * 1e-9}}.dump();
  });
}

void set_num_threads(int n) {
  guard([&] { cnn::set_num_threads(n); });
}

// Bytes the allocator has handed out, the size of the wasm heap itself, and
// the engine's tensor memory against its budget.
std::string heap_info() {
  struct mallinfo mi = mallinfo();
  // mallinfo's fields are ints: past 2 GiB of a 4 GiB heap they read negative.
  return json{{"used", static_cast<uint32_t>(mi.uordblks)},
              {"heapSize", emscripten_get_heap_size()},
              {"budget", cnn::memory_budget()},
              {"tensors", cnn::tensor_bytes_in_use()},
              {"peakTensors", cnn::peak_tensor_bytes()}}
      .dump();
}

void set_memory_budget(double bytes) {
  guard([&] {
    if (!(bytes >= 0)) throw cnn::ValueError("setMemoryBudget: bytes must be 0 (no budget) or more");
    cnn::set_memory_budget(static_cast<size_t>(bytes));
  });
}

// A Keras 3 .keras archive's directory, checked: config.json's text and
// where model.weights.h5 lies, as {"config", "weightsOffset", "weightsSize"}.
std::string keras3_archive(const val& bytes) {
  return guard([&] {
    const std::vector<uint8_t> b = emscripten::convertJSArrayToNumberVector<uint8_t>(bytes);
    const cnn::io::Keras3Archive a = cnn::io::read_keras3_archive(b.data(), b.size());
    return json{{"config", a.config}, {"weightsOffset", a.weights_offset}, {"weightsSize", a.weights_size}}
        .dump();
  });
}

}  // namespace

EMSCRIPTEN_BINDINGS(cnn_playground) {
  using namespace emscripten;
  function("takeError", &take_error);
  function("buildInfo", &build_info);
  function("numThreads", &cnn::num_threads);
  function("maxThreads", &cnn::max_threads);
  function("setNumThreads", &set_num_threads);
  function("benchGemm", &bench_gemm);
  function("benchPeak", &bench_peak);
  function("heapInfo", &heap_info);
  function("setMemoryBudget", &set_memory_budget);
  function("syntheticTask", &synthetic_task, allow_raw_pointers());
  function("encodePng", &encode_png);
  function("loadImage", &load_image, allow_raw_pointers());
  function("keras3Archive", &keras3_archive);

  class_<JsTensorList>("TensorList")
      .function("count", &JsTensorList::count)
      .function("at", &JsTensorList::at, allow_raw_pointers());

  class_<JsTensor>("Tensor")
      .class_function("create", &JsTensor::create, allow_raw_pointers())
      .function("shape", &JsTensor::shape)
      .function("view", &JsTensor::view)
      .function("size", &JsTensor::size);

  class_<JsGradients>("Gradients")
      .function("output", &JsGradients::output, allow_raw_pointers())
      .function("inputGrad", &JsGradients::inputGrad, allow_raw_pointers())
      .function("weightCount", &JsGradients::weightCount)
      .function("weightGrad", &JsGradients::weightGrad, allow_raw_pointers())
      .function("loss", &JsGradients::loss);

  class_<JsTask>("SyntheticTask")
      .function("x", &JsTask::x, allow_raw_pointers())
      .function("y", &JsTask::y, allow_raw_pointers());

  class_<JsFileSet>("FileSet")
      .constructor<>()
      .function("add", &JsFileSet::add)
      .function("addFolder", &JsFileSet::addFolder)
      .function("size", &JsFileSet::size);

  class_<JsImageFlow>("ImageFlow")
      .class_function("create", &JsImageFlow::create, allow_raw_pointers())
      .function("info", &JsImageFlow::info)
      .function("prepare", &JsImageFlow::prepare)
      .function("next", &JsImageFlow::next)
      .function("batch", &JsImageFlow::batch)
      .function("setEpoch", &JsImageFlow::setEpoch)
      .function("x", &JsImageFlow::x, allow_raw_pointers())
      .function("y", &JsImageFlow::y, allow_raw_pointers());

  class_<JsKerasFile>("KerasFile")
      .constructor<>()
      .function("addGroup", &JsKerasFile::addGroup)
      .function("setAttr", &JsKerasFile::setAttr)
      .function("setListAttr", &JsKerasFile::setListAttr)
      .function("addDataset", &JsKerasFile::addDataset)
      .function("dataset", &JsKerasFile::dataset)
      .function("listing", &JsKerasFile::listing)
      .function("isModel", &JsKerasFile::isModel);

  class_<JsModel>("Model")
      .class_function("fromJson", &JsModel::fromJson, allow_raw_pointers())
      .class_function("loadKeras", &JsModel::loadKeras, allow_raw_pointers())
      .class_function("loadKeras3", &JsModel::loadKeras3, allow_raw_pointers())
      .class_function("stackOn", &JsModel::stackOn, allow_raw_pointers())
      .function("loadKerasWeights", &JsModel::loadKerasWeights)
      .function("saveKeras", &JsModel::saveKeras, allow_raw_pointers())
      .function("preprocessing", &JsModel::preprocessing)
      .function("setPreprocessing", &JsModel::setPreprocessing)
      .function("setTrainable", &JsModel::setTrainable)
      .class_function("load", &JsModel::load, allow_raw_pointers())
      .class_function("lenet", &JsModel::lenet, allow_raw_pointers())
      .class_function("courseCnn", &JsModel::courseCnn, allow_raw_pointers())
      .class_function("resnet50", &JsModel::resnet50, allow_raw_pointers())
      .function("save", &JsModel::save)
      .function("metadata", &JsModel::metadata)
      .function("layerOutputs", &JsModel::layerOutputs, allow_raw_pointers())
      .function("summary", &JsModel::summary)
      .function("toJson", &JsModel::toJson)
      .function("name", &JsModel::name)
      .function("countParams", &JsModel::countParams)
      .function("trainableParams", &JsModel::trainableParams)
      .function("info", &JsModel::info)
      .function("setLayerTrainable", &JsModel::setLayerTrainable)
      .function("weightCount", &JsModel::weightCount)
      .function("getWeight", &JsModel::getWeight, allow_raw_pointers())
      .function("setWeight", &JsModel::setWeight)
      .function("compile", &JsModel::compile)
      .function("fitBegin", &JsModel::fitBegin)
      .function("fitBeginValidated", &JsModel::fitBeginValidated)
      .function("fitBeginFlow", &JsModel::fitBeginFlow, allow_raw_pointers())
      .function("fitStep", &JsModel::fitStep)
      .function("fitStop", &JsModel::fitStop)
      .function("fitState", &JsModel::fitState)
      .function("fitEnd", &JsModel::fitEnd)
      .function("evaluate", &JsModel::evaluate)
      .function("predict", &JsModel::predict, allow_raw_pointers())
      .function("vjp", &JsModel::vjp, allow_raw_pointers())
      .function("lossGradients", &JsModel::lossGradients, allow_raw_pointers());
}
