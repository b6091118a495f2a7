#include "disk_files.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "cnn/error.h"

namespace fs = std::filesystem;

namespace cnnp {

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open '" + path + "': " + std::strerror(errno));
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// As Keras's flow_from_directory (follow_links=False): a class folder that is
// a link is listed, links to folders inside it are not (a link back up would
// never end). Paths stay as listed: fs::relative resolves links, and a linked
// class folder's files came back as '../elsewhere/...', class '..'.
DiskFiles::DiskFiles(const std::string& root) : root_(root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    throw std::runtime_error("--data '" + root + "' is not a folder: expected a folder of class folders");
  auto fail = [&](const fs::path& where) {
    throw std::runtime_error("cannot list '" + where.string() + "': " + ec.message());
  };
  for (auto top = fs::directory_iterator(root, ec); !ec && top != fs::directory_iterator();
       top.increment(ec)) {
    const std::string name = top->path().filename().generic_string();
    std::error_code kind;
    if (top->is_regular_file(kind)) {
      paths_.push_back(name);  // not inside a class folder: listed, so that it is reported as skipped
      continue;
    }
    if (!top->is_directory(kind)) continue;
    folders_.push_back(name);
    const fs::path class_dir = top->path();
    for (auto it = fs::recursive_directory_iterator(class_dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      // A broken link is listed too: its read fails and it is named as skipped.
      std::error_code file_kind;
      if (it->is_regular_file(file_kind) || (it->is_symlink(file_kind) && !it->is_directory(file_kind)))
        paths_.push_back(name + "/" + it->path().lexically_relative(class_dir).generic_string());
    }
    if (ec) fail(class_dir);
  }
  if (ec) fail(root);
}

// A ValueError, as an undecodable image's: the flow names it and skips it.
std::vector<uint8_t> DiskFiles::read(size_t i) const {
  try {
    return read_file_bytes(root_ + "/" + paths_.at(i));
  } catch (const std::runtime_error& e) {
    throw cnn::ValueError(e.what());
  }
}

}  // namespace cnnp
