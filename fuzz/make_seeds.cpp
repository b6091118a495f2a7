// fuzz-seeds OUT_DIR: writes a seed corpus per fuzz target into
// OUT_DIR/<target>/, made with the engine's own encoders and savers and from
// the committed fixtures, so each fuzzer starts from valid inputs of its
// format and mutates from there.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "cnn/data/image.h"
#include "cnn/io/keras_h5.h"
#include "cnn/io/keras_json.h"
#include "cnn/io/model_bytes.h"
#include "cnn/nn/layers.h"
#include "cnn/nn/presets.h"
#include "cnn/nn/resnet50.h"
#include "cnn/rng.h"
#include "h5_tree_bytes.h"
#include "hdf5_file.h"

namespace fs = std::filesystem;

namespace {

std::string out_dir;

void write(const std::string& target, const std::string& name, const std::vector<uint8_t>& bytes) {
  const fs::path dir = fs::path(out_dir) / target;
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<uint8_t> read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<uint8_t> text(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

// The image target's input: an options byte, a size byte, then the file.
std::vector<uint8_t> image_input(uint8_t options, uint8_t size, const std::vector<uint8_t>& file) {
  std::vector<uint8_t> out(file.size() + 2);
  out[0] = options;
  out[1] = size;
  std::copy(file.begin(), file.end(), out.begin() + 2);
  return out;
}

cnn::data::Image pattern(int64_t h, int64_t w, int64_t c, uint64_t seed) {
  cnn::Rng rng(seed);
  cnn::data::Image img{h, w, c, std::vector<uint8_t>(static_cast<size_t>(h * w * c))};
  for (auto& p : img.pixels) p = static_cast<uint8_t>(rng.uniform(0.0f, 255.0f));
  return img;
}

void image_seeds() {
  int k = 0;
  for (int64_t c : {1, 3, 4}) {
    const auto img = pattern(6, 5, c, static_cast<uint64_t>(c));
    for (const auto& bytes : {cnn::data::encode_png(img), cnn::data::encode_jpeg(img, 80)}) {
      write("image", "encoded_" + std::to_string(k), image_input(static_cast<uint8_t>(k), 0x21, bytes));
      ++k;
    }
  }
  for (const auto& e : fs::directory_iterator(fs::path(CNN_SOURCE_DIR) / "tests/fixtures/images")) {
    const std::string ext = e.path().extension().string();
    if (ext == ".py" || ext == ".json") continue;
    const auto bytes = read(e.path());
    if (bytes.size() > 20000) continue;
    write("image", "fixture_" + e.path().filename().string(), image_input(0x05, 0x33, bytes));
  }
}

void folder_seeds() {
  auto record = [](std::vector<uint8_t>& out, const std::string& path, const std::vector<uint8_t>& content) {
    out.push_back(static_cast<uint8_t>(path.size()));
    out.insert(out.end(), path.begin(), path.end());
    out.push_back(static_cast<uint8_t>(content.size() & 0xff));
    out.push_back(static_cast<uint8_t>(content.size() >> 8));
    out.insert(out.end(), content.begin(), content.end());
  };
  for (uint8_t flags : {0x00, 0x11, 0x29, 0x52}) {
    std::vector<uint8_t> seed{flags};
    int i = 0;
    for (const char* cls : {"cats", "dogs", "birds"})
      for (int j = 0; j < 3; ++j)
        record(seed, std::string(cls) + "/img" + std::to_string(j) + (j == 2 ? ".jpg" : ".png"),
               j == 2 ? cnn::data::encode_jpeg(pattern(4, 4, 3, static_cast<uint64_t>(i++)), 70)
                      : cnn::data::encode_png(pattern(4, 4, 1, static_cast<uint64_t>(i++))));
    record(seed, "dogs/notes.txt", text("not an image"));
    record(seed, "stray.png", cnn::data::encode_png(pattern(2, 2, 1, 9)));
    record(seed, "birds/nested/deeper/x.bmp", text("BM broken"));
    write("folder_flow", "folder_" + std::to_string(flags), seed);
  }
}

void json_seeds() {
  for (const char* f : {"lenet_sequential.json", "functional_add.json"})
    write("keras_json", f, read(fs::path(CNN_SOURCE_DIR) / "tests/fixtures/keras" / f));
  write("keras_json", "lenet_engine.json", text(cnn::io::model_to_json(*cnn::nn::lenet({12, 12, 1}, 3))));
  cnn::nn::ResNet50Options o;
  o.input_shape = {32, 32, 3};
  o.classes = 3;
  write("keras_json", "mini_resnet.json",
        text(cnn::io::model_to_json(
            *cnn::nn::resnet(cnn::nn::ResNetArchitecture{4, {1, 1, 1, 1}, {2, 2, 2, 2}}, o))));
  // Keras's random image layers in front of a small CNN.
  const cnn::nn::FactorRange tenth{-0.1f, 0.1f, true};
  cnn::nn::ImageTransformOptions constant;
  constant.fill_mode = cnn::nn::ImageFill::Constant;
  cnn::nn::Sequential augmented(
      {std::make_shared<cnn::nn::InputLayer>(cnn::Shape{12, 12, 1}), std::make_shared<cnn::nn::RandomFlip>(),
       std::make_shared<cnn::nn::RandomRotation>(tenth, constant),
       std::make_shared<cnn::nn::RandomZoom>(tenth, tenth),
       std::make_shared<cnn::nn::RandomTranslation>(tenth, tenth),
       std::make_shared<cnn::nn::RandomContrast>(cnn::nn::FactorRange{0.2f, 0.2f, false}),
       std::make_shared<cnn::nn::RandomBrightness>(tenth, std::array<float, 2>{0.0f, 1.0f}, 3),
       std::make_shared<cnn::nn::Flatten>(),
       std::make_shared<cnn::nn::Dense>(cnn::nn::DenseOptions{3, "softmax"})},
      "augmented");
  write("keras_json", "augmented.json", text(cnn::io::model_to_json(augmented)));
  // A Functional calling a nested backbone (keras.io's transfer recipe).
  write("keras_json", "functional_nested.json", text(R"({"class_name": "Functional", "config": {"name": "m",
    "layers": [{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 8, 8, 3], "name": "in"},
      "name": "in", "inbound_nodes": []},
     {"class_name": "Rescaling", "config": {"name": "scale", "scale": 0.5}, "name": "scale",
      "inbound_nodes": [[["in", 0, 0, {}]]]},
     {"class_name": "Functional", "config": {"name": "base", "layers": [
       {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 8, 8, 3], "name": "input_1"},
        "name": "input_1", "inbound_nodes": []},
       {"class_name": "Conv2D", "config": {"name": "c", "filters": 2, "kernel_size": [3, 3]}, "name": "c",
        "inbound_nodes": [[["input_1", 0, 0, {}]]]},
       {"class_name": "BatchNormalization", "config": {"name": "bn"}, "name": "bn",
        "inbound_nodes": [[["c", 0, 0, {}]]]}],
       "input_layers": [["input_1", 0, 0]], "output_layers": [["bn", 0, 0]]},
      "name": "base", "inbound_nodes": [[["scale", 0, 0, {"training": false}]]]},
     {"class_name": "GlobalAveragePooling2D", "config": {"name": "gap"}, "name": "gap",
      "inbound_nodes": [[["base", 1, 0, {}]]]},
     {"class_name": "Dense", "config": {"name": "d", "units": 2}, "name": "d", "inbound_nodes": [[["gap", 0, 0, {}]]]}],
    "input_layers": [["in", 0, 0]], "output_layers": [["d", 0, 0]]}})"));
}

void model_bytes_seeds() {
  auto small = cnn::nn::lenet({16, 16, 1}, 2);
  write("model_bytes", "lenet_16x16", cnn::io::save_model_bytes(*small, R"({"class_names": ["a", "b"]})"));
  std::vector<cnn::nn::LayerPtr> layers{
      std::make_shared<cnn::nn::InputLayer>(cnn::Shape{5, 5, 2}),
      std::make_shared<cnn::nn::BatchNormalization>(), std::make_shared<cnn::nn::Flatten>(),
      std::make_shared<cnn::nn::Dense>(cnn::nn::DenseOptions{2, "softmax"})};
  cnn::nn::Sequential tiny(layers);
  write("model_bytes", "bn_dense", cnn::io::save_model_bytes(tiny));
}

void h5_seeds() {
  auto emit = [](const std::string& name, const cnn::io::H5Group& tree, uint8_t flags) {
    std::vector<uint8_t> bytes{flags};
    cnnfuzz::tree_to_bytes(tree, bytes);
    write("keras_h5", name, bytes);
  };
  const fs::path dir = fs::path(CNN_SOURCE_DIR) / "tests/fixtures/keras_h5";
  emit("reduced_resnet", cnnp::read_hdf5_file((dir / "reduced_resnet.h5").string()), 0);
  emit("reduced_resnet_by_name", cnnp::read_hdf5_file((dir / "reduced_resnet.h5").string()), 1);
  emit("reduced_resnet_legacy", cnnp::read_hdf5_file((dir / "reduced_resnet_legacy.h5").string()), 0);
  cnn::io::H5Group model_file;
  auto small = cnn::nn::lenet({16, 16, 1}, 2);
  cnn::io::save_keras_model(*small, model_file, R"({"class_names": ["a", "b"]})");
  emit("lenet_model_file", model_file, 0);
}

void keras3_seeds() {
  for (const char* f : {"cnn.keras", "nested.keras"})
    write("keras3", f, read(fs::path(CNN_SOURCE_DIR) / "tests/fixtures/keras3" / f));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz-seeds OUT_DIR\n";
    return 2;
  }
  out_dir = argv[1];
  image_seeds();
  folder_seeds();
  json_seeds();
  model_bytes_seeds();
  h5_seeds();
  keras3_seeds();
  std::cout << "seed corpora written to " << out_dir << "\n";
  return 0;
}
