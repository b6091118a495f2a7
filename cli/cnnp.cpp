// cnnp: the native command-line tool.
#include <cstring>
#include <iostream>
#include <string>

#include "args.h"
#include "cnn/io/keras_json.h"
#include "commands.h"
#include "disk_files.h"

namespace {

const char* kUsage =
    "usage: cnnp <command> [options]\n"
    "\n"
    "commands:\n"
    "  summary --model MODEL.json\n"
    "      print the Keras summary of a model.to_json() file\n"
    "  train --data DIR --model lenet|resnet50|MODEL.json|SAVED.h5|SAVED.keras [--target-size 28x28]\n"
    "        [--color-mode rgb|grayscale|rgba] [--batch-size 32] [--epochs 5] [--optimizer adam|sgd] [--lr "
    "0.001]\n"
    "        [--validation-split 0.25] [--seed 0] [--rescale 0.00392] [--preprocess caffe|none]\n"
    "        [--interpolation nearest|bilinear] [--memory-budget MiB] [--augment "
    "horizontal_flip,rotation_range=15,...]\n"
    "        [--weights FILE.h5 [--by-name]] [--freeze-backbone] [--save OUT.h5|OUT.cnnp] [--threads N] "
    "[--json]\n"
    "        [--device cpu|cuda]\n"
    "      train on a folder of class folders, like flow_from_directory + fit; resnet50 is ResNet50 without\n"
    "      its top + GlobalAveragePooling2D + Dense (Keras weights from --weights, e.g. ..._notop.h5)\n"
    "  predict --model resnet50|SAVED.h5|SAVED.keras|SAVED.cnnp --image FILE [--image FILE ...] [--json]\n"
    "          [--weights FILE.h5] [--include-top true|false] [--pooling avg|max] [--classes 1000]\n"
    "          [--target-size 224x224] [--preprocess caffe|none] [--rescale R] [--device cpu|cuda]\n"
    "      every output and the top 5 of each image\n"
    "  (--device cuda: train or predict on an NVIDIA GPU, in builds made with the CUDA toolkit)\n"
    "  make-dataset --out DIR [--samples 2000] [--size 28x28] [--classes 10] [--color-mode grayscale]\n"
    "               [--format png|jpg] [--seed 0]\n"
    "      write the generated sample task as a folder of class folders of images\n"
    "  help\n"
    "      show this text\n";

}  // namespace

namespace cnnp {

int cmd_summary(int argc, char** argv) {
  Args a(argc, argv, "summary", {"model"});
  if (!a.has("model")) throw std::invalid_argument("cnnp summary needs --model MODEL.json");
  std::vector<uint8_t> text = read_file_bytes(a.get("model"));
  std::cout << cnn::io::model_from_json(std::string(text.begin(), text.end()))->summary();
  return 0;
}

}  // namespace cnnp

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string cmd = argv[1];
  const bool known = cmd == "summary" || cmd == "train" || cmd == "predict" || cmd == "make-dataset";
  if (known && cnnp::wants_help(argc - 2, argv + 2)) {
    std::cout << kUsage;
    return 0;
  }
  try {
    if (cmd == "summary") return cnnp::cmd_summary(argc - 2, argv + 2);
    if (cmd == "train") return cnnp::cmd_train(argc - 2, argv + 2);
    if (cmd == "predict") return cnnp::cmd_predict(argc - 2, argv + 2);
    if (cmd == "make-dataset") return cnnp::cmd_make_dataset(argc - 2, argv + 2);
    if (cmd == "help" || cmd == "--help" || cmd == "-h") {
      std::cout << kUsage;
      return 0;
    }
    std::cerr << "cnnp: unknown command '" << cmd << "'\n" << kUsage;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "cnnp " << cmd << ": error: " << e.what() << "\n";
    return 1;
  }
}
