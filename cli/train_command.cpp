// cnnp train: flow_from_directory + compile + fit, printed like Keras.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>

#include "args.h"
#include "cnn/data/flow.h"
#include "cnn/device.h"
#include "cnn/io/keras_json.h"
#include "cnn/io/model_bytes.h"
#include "cnn/nn/presets.h"
#include "cnn/optim/optimizer.h"
#include "cnn/parallel.h"
#include "cnn/train/fit_loop.h"
#include "commands.h"
#include "disk_files.h"
#include "model_files.h"

namespace cnnp {

namespace {

// Python's repr of class_indices: {'cats': 0, 'dogs': 1}
std::string class_indices_repr(const std::vector<std::string>& classes) {
  std::string s = "{";
  for (size_t i = 0; i < classes.size(); ++i) s += (i ? ", '" : "'") + classes[i] + "': " + std::to_string(i);
  return s + "}";
}

std::string format_logs(const cnn::train::Logs& logs) {
  std::string s;
  char buf[64];
  for (const char* k : {"loss", "accuracy", "val_loss", "val_accuracy"}) {
    auto it = logs.find(k);
    if (it == logs.end()) continue;
    std::snprintf(buf, sizeof buf, " - %s: %.4f", k, it->second);
    s += buf;
  }
  return s;
}

// Passes batches through and adds up the time spent making them (decode,
// resize, augment, convert), to report the input pipeline's share.
class TimedDataset : public cnn::train::Dataset {
 public:
  explicit TimedDataset(cnn::train::Dataset& d) : d_(d) {}
  int64_t num_samples() const override { return d_.num_samples(); }
  int64_t num_batches() const override { return d_.num_batches(); }
  int64_t batch_size() const override { return d_.batch_size(); }
  void ready() override { d_.ready(); }
  void on_epoch_begin(int e) override { d_.on_epoch_begin(e); }
  std::pair<cnn::Tensor, cnn::Tensor> batch(int64_t i) override {
    auto t0 = std::chrono::steady_clock::now();
    auto b = d_.batch(i);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return b;
  }
  double seconds = 0;

 private:
  cnn::train::Dataset& d_;
};

}  // namespace

int cmd_train(int argc, char** argv) {
  Args a(argc, argv, "train",
         {"augment", "batch-size", "color-mode", "data", "device", "epochs", "interpolation", "lr",
          "memory-budget", "model", "optimizer", "preprocess", "rescale", "save", "seed", "target-size",
          "threads", "validation-split", "weights"},
         {"by-name", "freeze-backbone", "json"});
  if (!a.has("data") || !a.has("model"))
    throw std::invalid_argument("cnnp train needs --data DIR and --model lenet|resnet50|MODEL.json|SAVED.h5|SAVED.keras");
  const bool json_out = a.has("json");
  const std::string model_arg = a.get("model");
  cnn::data::FlowOptions fo;
  fo.color_mode = cnn::data::parse_color_mode(a.get("color-mode", "rgb"));
  fo.class_mode = cnn::data::ClassMode::Sparse;
  fo.batch_size = a.integer("batch-size", 32);
  fo.seed = static_cast<uint64_t>(a.integer("seed", 0));
  fo.validation_split = a.number("validation-split", 0.0);
  fo.interpolation = cnn::data::parse_interpolation(a.get("interpolation", "nearest"));
  if (a.has("memory-budget")) {  // in MiB: decoded images kept beyond it are decoded per batch instead
    const double mib = a.number("memory-budget", 1024);
    if (!(mib >= 0) || !std::isfinite(mib))
      throw std::invalid_argument("--memory-budget must be 0 MiB or more, got '" + a.get("memory-budget") +
                                  "'");
    // More than the address space holds is all of it (a cast of a larger double is undefined).
    const double bytes = mib * 1024 * 1024;
    fo.memory_budget = bytes >= static_cast<double>(std::numeric_limits<size_t>::max())
                           ? std::numeric_limits<size_t>::max()
                           : static_cast<size_t>(bytes);
  }
  if (a.has("save")) check_save_path(a.get("save"));
  const int64_t channels = cnn::data::color_mode_channels(fo.color_mode);
  const uint64_t seed = fo.seed;
  if (a.has("threads")) cnn::set_num_threads(static_cast<int>(a.integer("threads", 1)));
  auto& log = json_out ? std::cerr : std::cout;

  // lenet and resnet50 are built once the classes are known; a JSON or a
  // saved model now, so that its input decides the target size.
  std::unique_ptr<cnn::nn::Model> given_model;
  std::string saved_meta;
  const bool is_preset = model_arg == "lenet" || model_arg == "resnet50";
  if (!is_preset) {
    const bool is_json = model_arg.size() >= 5 && model_arg.compare(model_arg.size() - 5, 5, ".json") == 0;
    if (is_json) {
      std::vector<uint8_t> text = read_file_bytes(model_arg);
      given_model = cnn::io::model_from_json(std::string(text.begin(), text.end()), seed);
    } else {
      given_model = load_model_file(model_arg, &saved_meta);
    }
  }
  // The target size: given, else the model's input, else the preset's
  // (LeNet 28x28, ResNet50 224x224).
  std::pair<int64_t, int64_t> size =
      model_arg == "resnet50" ? std::pair<int64_t, int64_t>{224, 224} : std::pair<int64_t, int64_t>{28, 28};
  if (given_model && given_model->input_shape().size() == 4)
    size = {given_model->input_shape()[1], given_model->input_shape()[2]};
  if (a.has("target-size")) size = parse_size("target-size", a.get("target-size"));
  fo.target_height = size.first;
  fo.target_width = size.second;
  // Preprocessing as the model asks (ResNet50's weights: 'caffe', on 0..255
  // pixels, so no rescale by default), unless told otherwise.
  fo.preprocessing = model_arg == "resnet50" ? "caffe" : given_model ? given_model->preprocessing() : "";
  if (a.has("preprocess")) fo.preprocessing = a.get("preprocess") == "none" ? "" : a.get("preprocess");
  fo.rescale = static_cast<float>(a.number("rescale", fo.preprocessing.empty() ? 1.0 / 255 : 0.0));

  auto files = std::make_shared<DiskFiles>(a.get("data"));
  cnn::data::FlowOptions train_opt = fo, val_opt = fo;
  if (fo.validation_split > 0) {
    train_opt.subset = cnn::data::Subset::Training;
    val_opt.subset = cnn::data::Subset::Validation;
    val_opt.shuffle = false;
  }
  if (a.has("augment")) train_opt.augment = cnn::data::AugmentOptions::parse(a.get("augment"));
  cnn::data::ImageFlow train(files, train_opt);
  std::unique_ptr<cnn::data::ImageFlow> val;
  if (fo.validation_split > 0) val = std::make_unique<cnn::data::ImageFlow>(files, val_opt);
  log << train.found_message() << "\n";
  if (val) log << val->found_message() << "\n";
  if (!train.listing().skipped.empty()) std::cerr << "warning: " << train.listing().skipped_warning() << "\n";
  if (!train.listing().empty_classes.empty())
    std::cerr << "warning: " << train.listing().empty_warning() << "\n";
  log << "class_indices: " << class_indices_repr(train.classes()) << "\n";
  const int64_t classes = static_cast<int64_t>(train.classes().size());

  std::unique_ptr<cnn::nn::Model> backbone;  // resnet50: shares its layers with the model
  std::unique_ptr<cnn::nn::Model> model;
  if (model_arg == "lenet") {
    model = cnn::nn::lenet({size.first, size.second, channels}, classes, seed);
  } else if (model_arg == "resnet50") {
    // The course's transfer model: ResNet50 without its top + GAP + Dense.
    backbone = resnet50_from_args(a, {size.first, size.second, channels}, false);
    if (a.has("weights")) load_weights_file(*backbone, a.get("weights"), a.has("by-name"), log);
    if (a.has("freeze-backbone")) backbone->set_trainable(false);
    model = cnn::nn::classifier_on(*backbone, classes, seed);
  } else {
    model = std::move(given_model);
    if (a.has("weights")) load_weights_file(*model, a.get("weights"), a.has("by-name"), log);
    if (a.has("freeze-backbone"))
      throw std::invalid_argument("--freeze-backbone applies to --model resnet50 (its backbone)");
  }
  model->set_preprocessing(fo.preprocessing);
  if (model_arg == "resnet50") {
    const int64_t total = model->count_params(), trainable = model->count_trainable_params();
    log << "params: " << total << " total, " << trainable << " trainable, " << total - trainable
        << " non-trainable\n";
  }
  const cnn::Shape want_in{-1, size.first, size.second, channels};
  if (model->input_shape() != want_in)
    throw std::invalid_argument(
        "the model takes input " + cnn::shape_str(model->input_shape()) + ", but --target-size " +
        std::to_string(size.first) + "x" + std::to_string(size.second) + " and --color-mode " +
        cnn::data::color_mode_name(fo.color_mode) + " give " + cnn::shape_str(want_in));
  if (model->output_shape().back() != classes)
    throw std::invalid_argument("the model has " + std::to_string(model->output_shape().back()) +
                                " outputs, but the data has " + std::to_string(classes) + " classes");

  for (cnn::data::ImageFlow* f : {&train, val.get()}) {
    if (!f) continue;
    f->prepare();
    for (const std::string& u : f->unreadable())
      std::cerr << "warning: skipped unreadable image: " << u << "\n";
  }

  // On a GPU the weights move once; fit copies each batch in and the loss out.
  const cnn::Device device = cnn::parse_device(a.get("device", "cpu"));
  model->to(device);
  if (device != cnn::Device::CPU) log << "device: " << cnn::device_description(device) << "\n";

  const std::string opt_name = a.get("optimizer", "adam");
  nlohmann::json opt_cfg = {{"class_name", opt_name}, {"config", nlohmann::json::object()}};
  if (a.has("lr")) opt_cfg["config"]["learning_rate"] = a.number("lr", 0.001);
  model->compile(cnn::optim::optimizer_from_config(opt_cfg), "sparse_categorical_crossentropy", {"accuracy"});

  cnn::train::FitOptions fit;
  fit.batch_size = fo.batch_size;
  fit.epochs = static_cast<int>(a.integer("epochs", 5));
  fit.seed = seed;
  fit.validation_dataset = val.get();
  TimedDataset timed(train);
  cnn::train::FitLoop loop(*model, timed, fit);
  const bool tty = !json_out && isatty(STDOUT_FILENO);
  int64_t images = 0;
  double train_seconds = 0;  // this epoch's steps, validation excluded
  bool epoch_start = true;
  while (!loop.done()) {
    if (epoch_start) {
      if (tty) std::cout << "Epoch " << loop.epoch() + 1 << "/" << fit.epochs << "\n";
      timed.seconds = 0;
      train_seconds = 0;
      epoch_start = false;
    }
    const int epoch = loop.epoch();
    const auto step0 = std::chrono::steady_clock::now();
    loop.step();
    train_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - step0).count();
    if (loop.epoch_ended()) train_seconds -= loop.validation_seconds();
    images = loop.epoch_ended() ? train.num_samples() : loop.samples_seen();
    const double rate = train_seconds > 0 ? images / train_seconds : 0;
    if (loop.epoch_ended()) {
      epoch_start = true;
      const auto& logs = loop.epoch_logs();
      if (json_out) {
        // The input pipeline's share of the epoch's training time (validation excluded).
        nlohmann::json j = {{"epoch", epoch + 1},
                            {"images_per_s", std::round(rate * 10) / 10},
                            {"input_fraction", std::round(timed.seconds / train_seconds * 1000) / 1000}};
        for (const auto& [k, v] : logs) j[k] = v;
        std::cout << j.dump() << std::endl;
      } else {
        if (!tty) std::cout << "Epoch " << epoch + 1 << "/" << fit.epochs << "\n";
        char buf[128];
        std::snprintf(buf, sizeof buf, "%lld/%lld - %.1fs - %.0f images/s",
                      static_cast<long long>(loop.steps_per_epoch()),
                      static_cast<long long>(loop.steps_per_epoch()),
                      train_seconds + loop.validation_seconds(), rate);
        std::cout << (tty ? "\r\033[K" : "") << buf << format_logs(logs) << std::endl;
      }
    } else if (tty) {
      const int64_t done = loop.batch(), total = loop.steps_per_epoch();
      const int width = 30, filled = static_cast<int>(width * done / std::max<int64_t>(total, 1));
      const double eta = rate > 0 ? (train.num_samples() - images) / rate : 0;
      std::printf("\r%lld/%lld [%s>%s] - ETA: %.0fs - %.0f images/s%s", static_cast<long long>(done),
                  static_cast<long long>(total), std::string(filled, '=').c_str(),
                  std::string(width - filled, '.').c_str(), eta, rate,
                  format_logs(loop.batch_logs()).c_str());
      std::fflush(stdout);
    }
  }
  if (a.has("save")) {
    nlohmann::json meta = {{"class_names", train.classes()},
                           {"color_mode", cnn::data::color_mode_name(fo.color_mode)},
                           {"target_size", {size.first, size.second}},
                           {"rescale", fo.rescale},
                           {"preprocessing", fo.preprocessing},
                           {"interpolation", cnn::data::interpolation_name(fo.interpolation)}};
    model->to(cnn::Device::CPU);
    save_model_file(*model, a.get("save"), meta.dump());
    log << "saved the model to " << a.get("save") << "\n";
  }
  return 0;
}

}  // namespace cnnp
