#include "disk_files.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace cnnp {

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open '" + path + "': " + std::strerror(errno));
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

DiskFiles::DiskFiles(const std::string& root) : root_(root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    throw std::runtime_error("--data '" + root + "' is not a folder: expected a folder of class folders");
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::follow_directory_symlink, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string rel = fs::relative(it->path(), root, ec).generic_string();
    if (it->is_directory(ec)) {
      if (it.depth() == 0) folders_.push_back(rel);
    } else if (it->is_regular_file(ec)) {
      paths_.push_back(rel);
    }
  }
  if (ec) throw std::runtime_error("cannot list '" + root + "': " + ec.message());
}

std::vector<uint8_t> DiskFiles::read(size_t i) const { return read_file_bytes(root_ + "/" + paths_.at(i)); }

}  // namespace cnnp
