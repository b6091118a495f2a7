// cnnp predict: a model's outputs and top-5 for images: a model saved by
// cnnp train (or Keras's model.save .h5), or keras.applications' ResNet50.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "args.h"
#include "cnn/data/image.h"
#include "cnn/data/preprocess.h"
#include "cnn/device.h"
#include "commands.h"
#include "disk_files.h"
#include "model_files.h"

namespace cnnp {

int cmd_predict(int argc, char** argv) {
  Args a(argc, argv, "predict",
         {"classes", "device", "image", "include-top", "model", "pooling", "preprocess", "rescale", "seed",
          "target-size", "weights"},
         {"by-name", "json"});
  std::vector<std::string> images = a.all("image");
  if (!a.has("model") || images.empty())
    throw std::invalid_argument(
        "cnnp predict needs --model resnet50|SAVED.h5|SAVED.keras|SAVED.cnnp and at least one --image FILE");
  const std::string model_arg = a.get("model");
  std::unique_ptr<cnn::nn::Model> model;
  nlohmann::json meta = nlohmann::json::object();
  if (model_arg == "resnet50") {
    std::pair<int64_t, int64_t> size{224, 224};
    if (a.has("target-size")) size = parse_size("target-size", a.get("target-size"));
    model = resnet50_from_args(a, {size.first, size.second, 3},
                               parse_bool("include-top", a.get("include-top", "true")));
  } else {
    std::string meta_text;
    model = load_model_file(model_arg, &meta_text);
    if (!meta_text.empty()) meta = nlohmann::json::parse(meta_text);
  }
  if (a.has("weights")) load_weights_file(*model, a.get("weights"), a.has("by-name"), std::cerr);
  model->to(cnn::parse_device(a.get("device", "cpu")));

  const cnn::Shape in = model->input_shape();
  if (in.size() != 4)
    throw std::invalid_argument("the model does not take images (input " + cnn::shape_str(in) + ")");
  // As the model was trained (cnnp train saves these with it), unless told otherwise.
  std::string preprocess = a.get("preprocess", meta.value("preprocessing", model->preprocessing()));
  if (preprocess == "none") preprocess = "";
  cnn::data::check_preprocessing_mode(preprocess);
  const auto mode = cnn::data::parse_color_mode(meta.value("color_mode", in[3] == 1 ? std::string("grayscale")
                                                                         : in[3] == 4 ? std::string("rgba")
                                                                                      : "rgb"));
  // A model that preprocesses its input ('caffe') takes pixels in 0..255.
  const float rescale =
      static_cast<float>(a.number("rescale", meta.value("rescale", preprocess.empty() ? 1.0 / 255 : 1.0)));
  const auto interpolation =
      cnn::data::parse_interpolation(meta.value("interpolation", std::string("nearest")));
  const std::vector<std::string> names = meta.value("class_names", std::vector<std::string>{});

  for (const std::string& path : images) {
    std::vector<uint8_t> file = read_file_bytes(path);
    const cnn::Tensor x = cnn::data::image_tensor(file.data(), file.size(), path, in[1], in[2], mode,
                                                  interpolation, rescale, preprocess);
    cnn::Tensor out = model->predict(x);
    std::vector<int64_t> order(static_cast<size_t>(out.numel()));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t l, int64_t r) { return out[l] > out[r]; });
    order.resize(std::min<size_t>(5, order.size()));
    if (a.has("json")) {
      nlohmann::json j = {{"image", path}, {"output", out.to_vector()}, {"top5", nlohmann::json::array()}};
      for (int64_t k : order) j["top5"].push_back({k, out[k]});
      std::cout << j.dump() << "\n";
    } else {
      std::cout << path << "\n";
      for (int64_t k : order) {
        const std::string name =
            static_cast<size_t>(k) < names.size() ? names[static_cast<size_t>(k)] : std::to_string(k);
        std::printf("  %-24s %.4f\n", name.c_str(), out[k]);
      }
    }
  }
  return 0;
}

}  // namespace cnnp
