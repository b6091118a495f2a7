#include "cnn/io/model_bytes.h"

#include <cstring>

#include "cnn/error.h"
#include "cnn/io/keras_json.h"

namespace cnn::io {

namespace {

constexpr char kMagic[8] = {'C', 'N', 'N', 'P', 'M', 'D', 'L', '1'};

template <typename T>
void put(std::vector<uint8_t>& out, T v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);  // x86 and wasm are little-endian
  out.insert(out.end(), p, p + sizeof(T));
}

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : p_(data), left_(size) {}
  template <typename T>
  T get(const char* what) {
    T v;
    std::memcpy(&v, take(sizeof(T), what), sizeof(T));
    return v;
  }
  const uint8_t* take(size_t n, const char* what) {
    if (n > left_)
      throw ValueError(str_cat("model bytes: truncated while reading ", what, " (", n, " bytes needed, ",
                               left_, " left)"));
    const uint8_t* at = p_;
    p_ += n;
    left_ -= n;
    return at;
  }
  size_t left() const { return left_; }

 private:
  const uint8_t* p_;
  size_t left_;
};

}  // namespace

std::vector<uint8_t> save_model_bytes(const nn::Model& model, const std::string& metadata) {
  std::vector<uint8_t> out(kMagic, kMagic + 8);
  const std::string json = model_to_json(model);
  put<uint32_t>(out, static_cast<uint32_t>(json.size()));
  out.insert(out.end(), json.begin(), json.end());
  std::vector<std::pair<std::string, Tensor>> weights;
  for (const nn::LayerPtr& l : model.layers())
    for (const nn::Weight& w : l->weights()) weights.emplace_back(l->name() + "/" + w.name, w.value);
  put<uint32_t>(out, static_cast<uint32_t>(weights.size()));
  for (const auto& [name, t] : weights) {
    put<uint32_t>(out, static_cast<uint32_t>(name.size()));
    out.insert(out.end(), name.begin(), name.end());
    put<uint32_t>(out, static_cast<uint32_t>(t.ndim()));
    for (int64_t d : t.shape()) put<int64_t>(out, d);
    const Tensor host = t.to(Device::CPU);  // a model on a GPU saves alike
    const auto* p = reinterpret_cast<const uint8_t*>(host.data());
    out.insert(out.end(), p, p + host.numel() * sizeof(float));
  }
  // Then, each only when it or one after it is there: the metadata, and the
  // model's preprocess_input ('caffe' for ResNet50), which Keras's JSON has
  // no place for.
  const std::string& pre = model.preprocessing();
  if (!metadata.empty() || !pre.empty()) {
    put<uint32_t>(out, static_cast<uint32_t>(metadata.size()));
    out.insert(out.end(), metadata.begin(), metadata.end());
  }
  if (!pre.empty()) {
    put<uint32_t>(out, static_cast<uint32_t>(pre.size()));
    out.insert(out.end(), pre.begin(), pre.end());
  }
  return out;
}

std::unique_ptr<nn::Model> load_model_bytes(const uint8_t* data, size_t size, std::string* metadata) {
  Reader r(data, size);
  if (size < 8 || std::memcmp(r.take(8, "the header"), kMagic, 8) != 0)
    throw ValueError("model bytes: not a CNN Playground model (the header is not CNNPMDL1)");
  const uint32_t json_len = r.get<uint32_t>("the JSON length");
  const uint8_t* json = r.take(json_len, "the model JSON");
  auto model = model_from_json(std::string(reinterpret_cast<const char*>(json), json_len));
  std::vector<nn::Weight*> weights = model->all_weights();
  std::vector<std::string> names;
  for (const nn::LayerPtr& l : model->layers())
    for (const nn::Weight& w : l->weights()) names.push_back(l->name() + "/" + w.name);
  const uint32_t count = r.get<uint32_t>("the weight count");
  if (count != weights.size())
    throw ValueError(
        str_cat("model bytes: ", count, " weights stored, but the architecture has ", weights.size()));
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t name_len = r.get<uint32_t>("a weight name length");
    const uint8_t* name_p = r.take(name_len, "a weight name");
    const std::string name(reinterpret_cast<const char*>(name_p), name_len);
    if (name != names[i])
      throw ValueError("model bytes: weight " + std::to_string(i) + " is '" + name + "', expected '" +
                       names[i] + "'");
    const uint32_t rank = r.get<uint32_t>("a weight rank");
    if (rank > 8) throw ValueError(str_cat("model bytes: weight '", name, "' has rank ", rank));
    Shape shape;
    for (uint32_t d = 0; d < rank; ++d) shape.push_back(r.get<int64_t>("a weight dimension"));
    if (shape != weights[i]->value.shape())
      throw ValueError("model bytes: weight '" + name + "' has shape " + shape_str(shape) + ", expected " +
                       shape_str(weights[i]->value.shape()));
    const size_t bytes = static_cast<size_t>(weights[i]->value.numel()) * sizeof(float);
    Tensor& w = weights[i]->value;
    if (w.device() == Device::CPU)
      std::memcpy(w.data(), r.take(bytes, "weight values"), bytes);
    else {
      Tensor host = Tensor::empty(w.shape());
      std::memcpy(host.data(), r.take(bytes, "weight values"), bytes);
      w.copy_from(host);  // a model already on a GPU
    }
  }
  std::string meta;
  if (r.left() != 0) {
    const uint32_t meta_len = r.get<uint32_t>("the metadata length");
    const uint8_t* m = r.take(meta_len, "the metadata");
    meta.assign(reinterpret_cast<const char*>(m), meta_len);
  }
  if (r.left() != 0) {
    const uint32_t pre_len = r.get<uint32_t>("the preprocessing length");
    const uint8_t* p = r.take(pre_len, "the preprocessing");
    model->set_preprocessing(std::string(reinterpret_cast<const char*>(p), pre_len));
    if (r.left() != 0)
      throw ValueError(str_cat("model bytes: ", r.left(), " unexpected bytes after the preprocessing"));
  }
  if (metadata) *metadata = meta;
  return model;
}

}  // namespace cnn::io
