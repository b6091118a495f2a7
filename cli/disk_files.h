// A dataset folder on disk as a data::FileSource: the class folders (links
// to folders included) and the files found in them recursively, bytes read
// when asked for.
#pragma once

#include <string>
#include <vector>

#include "cnn/data/directory.h"

namespace cnnp {

class DiskFiles : public cnn::data::FileSource {
 public:
  // Throws std::runtime_error when `root` is not a readable folder.
  explicit DiskFiles(const std::string& root);
  size_t size() const override { return paths_.size(); }
  const std::string& path(size_t i) const override { return paths_.at(i); }
  std::vector<uint8_t> read(size_t i) const override;
  std::vector<std::string> folders() const override { return folders_; }

 private:
  std::string root_;
  std::vector<std::string> paths_, folders_;
};

std::vector<uint8_t> read_file_bytes(const std::string& path);

}  // namespace cnnp
