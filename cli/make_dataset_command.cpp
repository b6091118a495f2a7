// cnnp make-dataset: the generated sample task written as class folders of
// PNG (or JPEG) files, so the folder pipeline can be tried without one's own images.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "args.h"
#include "cnn/data/image.h"
#include "cnn/data/synthetic.h"
#include "commands.h"

namespace cnnp {

int cmd_make_dataset(int argc, char** argv) {
  Args a(argc, argv, "make-dataset", {"classes", "color-mode", "format", "out", "samples", "seed", "size"});
  if (!a.has("out")) throw std::invalid_argument("cnnp make-dataset needs --out DIR");
  const auto size = parse_size("size", a.get("size", "28x28"));
  const auto mode = cnn::data::parse_color_mode(a.get("color-mode", "grayscale"));
  cnn::data::SyntheticOptions o;
  o.samples = a.integer("samples", 2000);
  o.height = size.first;
  o.width = size.second;
  o.channels = cnn::data::color_mode_channels(mode);
  o.classes = a.integer("classes", 10);
  o.seed = static_cast<uint64_t>(a.integer("seed", 0));
  const cnn::data::SyntheticTask task = cnn::data::make_synthetic_task(o);
  const std::filesystem::path out = a.get("out");
  const std::string format = a.get("format", "png");
  if (format != "png" && format != "jpg")
    throw std::invalid_argument("--format must be png or jpg, got '" + format + "'");
  const bool jpeg = format == "jpg";
  const int64_t plane = o.height * o.width * o.channels;
  for (int64_t n = 0; n < o.samples; ++n) {
    const auto cls = static_cast<int64_t>(task.y[n]);
    const std::filesystem::path dir = out / ("class_" + std::to_string(cls));
    std::filesystem::create_directories(dir);
    cnn::data::Image img{o.height, o.width, o.channels, std::vector<uint8_t>(static_cast<size_t>(plane))};
    for (int64_t i = 0; i < plane; ++i)
      img.pixels[static_cast<size_t>(i)] = static_cast<uint8_t>(task.x[n * plane + i] * 255.0f + 0.5f);
    const std::vector<uint8_t> bytes = jpeg ? cnn::data::encode_jpeg(img) : cnn::data::encode_png(img);
    char name[32];
    std::snprintf(name, sizeof name, "%05lld.%s", static_cast<long long>(n), jpeg ? "jpg" : "png");
    std::ofstream f(dir / name, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!f) throw std::runtime_error("cannot write " + (dir / name).string());
  }
  std::cout << "wrote " << o.samples << " images in " << o.classes << " class folders to " << out.string()
            << "\n";
  return 0;
}

}  // namespace cnnp
