// cnnp predict: top-5 classes for images, with a model saved by cnnp train.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "args.h"
#include "cnn/data/image.h"
#include "cnn/io/model_bytes.h"
#include "commands.h"
#include "disk_files.h"

namespace cnnp {

int cmd_predict(int argc, char** argv) {
  Args a(argc, argv, {"json"});
  std::vector<std::string> images = a.all("image");
  if (!a.has("model") || images.empty())
    throw std::invalid_argument("cnnp predict needs --model SAVED and at least one --image FILE");
  std::vector<uint8_t> bytes = read_file_bytes(a.get("model"));
  std::string meta_text;
  auto model = cnn::io::load_model_bytes(bytes.data(), bytes.size(), &meta_text);
  const nlohmann::json meta = meta_text.empty() ? nlohmann::json::object() : nlohmann::json::parse(meta_text);
  const cnn::Shape in = model->input_shape();
  if (in.size() != 4)
    throw std::invalid_argument("the model does not take images (input " + cnn::shape_str(in) + ")");
  const auto mode = cnn::data::parse_color_mode(meta.value("color_mode", in[3] == 1 ? std::string("grayscale")
                                                                         : in[3] == 4 ? std::string("rgba")
                                                                                      : "rgb"));
  const float rescale = meta.value("rescale", 1.0f / 255);
  const std::vector<std::string> names = meta.value("class_names", std::vector<std::string>{});

  for (const std::string& path : images) {
    std::vector<uint8_t> file = read_file_bytes(path);
    const cnn::Tensor x = cnn::data::image_tensor(file.data(), file.size(), path, in[1], in[2], mode,
                                                  cnn::data::Interpolation::Nearest, rescale);
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
