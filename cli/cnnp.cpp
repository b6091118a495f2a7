// cnnp: the native command-line tool. Subcommands grow with the project;
// for now: `cnnp summary --model model.json`.
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "cnn/io/keras_json.h"

namespace {

const char* kUsage =
    "usage: cnnp <command> [options]\n"
    "\n"
    "commands:\n"
    "  summary --model MODEL.json   print the Keras summary of a model.to_json() file\n"
    "  help                         show this text\n";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open '" + path + "': " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int cmd_summary(int argc, char** argv) {
  std::string model_path;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--model" && i + 1 < argc)
      model_path = argv[++i];
    else if (a.rfind("--model=", 0) == 0)
      model_path = a.substr(8);
    else {
      std::cerr << "cnnp summary: unexpected argument '" << a << "'\n" << kUsage;
      return 2;
    }
  }
  if (model_path.empty()) {
    std::cerr << "cnnp summary: --model MODEL.json is required\n" << kUsage;
    return 2;
  }
  auto model = cnn::io::model_from_json(read_file(model_path));
  std::cout << model->summary();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string cmd = argv[1];
  try {
    if (cmd == "summary") return cmd_summary(argc - 2, argv + 2);
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
