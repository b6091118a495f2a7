#include "model_files.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <ostream>

#include "cnn/io/keras3.h"
#include "cnn/io/keras_h5.h"
#include "cnn/io/model_bytes.h"
#include "cnn/nn/resnet50.h"
#include "disk_files.h"
#include "hdf5_file.h"

namespace cnnp {
namespace {

// HDF5's signature at the start of the file (a user block could move it;
// Keras files have none).
bool is_hdf5(const std::string& path) {
  static const char kSignature[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
  char head[8] = {};
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open '" + path + "'");
  in.read(head, 8);
  return in.gcount() == 8 && std::memcmp(head, kSignature, 8) == 0;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

bool parse_bool(const std::string& option, const std::string& value) {
  if (value == "true" || value == "1" || value == "yes") return true;
  if (value == "false" || value == "0" || value == "no") return false;
  throw std::invalid_argument("--" + option + " must be true or false, got '" + value + "'");
}

std::unique_ptr<cnn::nn::Model> load_model_file(const std::string& path, std::string* metadata) {
  if (is_hdf5(path)) return cnn::io::load_keras_model(read_hdf5_file(path), metadata);
  std::vector<uint8_t> bytes = read_file_bytes(path);
  // A zip: Keras 3's .keras archive (config.json and model.weights.h5).
  if (bytes.size() >= 4 && bytes[0] == 'P' && bytes[1] == 'K' && bytes[2] == 3 && bytes[3] == 4) {
    const cnn::io::Keras3Archive archive = cnn::io::read_keras3_archive(bytes.data(), bytes.size());
    if (metadata) metadata->clear();
    return cnn::io::load_keras3_model(
        archive.config, read_hdf5_image(bytes.data() + archive.weights_offset, archive.weights_size,
                                        path + ":model.weights.h5"));
  }
  return cnn::io::load_model_bytes(bytes.data(), bytes.size(), metadata);
}

void save_model_file(const cnn::nn::Model& model, const std::string& path, const std::string& metadata) {
  if (ends_with(path, ".h5") || ends_with(path, ".hdf5")) {
    cnn::io::H5Group tree;
    cnn::io::save_keras_model(model, tree, metadata);
    write_hdf5_file(tree, path);
    return;
  }
  std::vector<uint8_t> bytes = cnn::io::save_model_bytes(model, metadata);
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write '" + path + "'");
}

void check_save_path(const std::string& path) {
  if (!ends_with(path, ".h5") && !ends_with(path, ".hdf5") && !ends_with(path, ".cnnp"))
    throw std::invalid_argument(
        "--save '" + path + "': expected a name ending in .h5 (Keras's HDF5 model) or .cnnp (this engine's)");
  std::filesystem::path folder = std::filesystem::path(path).parent_path();
  if (folder.empty()) folder = ".";
  std::error_code ec;
  if (!std::filesystem::is_directory(folder, ec))
    throw std::invalid_argument("--save '" + path + "': the folder '" + folder.string() + "' does not exist");
  if (::access(folder.c_str(), W_OK) != 0)
    throw std::invalid_argument("--save '" + path + "': the folder '" + folder.string() +
                                "' is not writable");
}

void load_weights_file(cnn::nn::Model& model, const std::string& path, bool by_name, std::ostream& log) {
  const cnn::io::KerasWeightsReport r =
      cnn::io::load_keras_weights(model, read_hdf5_file(path), {.by_name = by_name});
  log << "loaded " << r.values << " weights of " << r.layers << " layers from " << path << "\n";
  for (const std::string& note : r.notes) log << "note: " << note << "\n";
}

std::unique_ptr<cnn::nn::Model> resnet50_from_args(const Args& a, const cnn::Shape& input, bool include_top) {
  cnn::nn::ResNet50Options o;
  o.include_top = include_top;
  o.input_shape = input;
  o.classes = a.integer("classes", 1000);
  o.pooling = a.get("pooling", "");
  if (o.pooling == "none") o.pooling = "";
  o.seed = static_cast<uint64_t>(a.integer("seed", 0));
  return cnn::nn::resnet50(o);
}

}  // namespace cnnp
