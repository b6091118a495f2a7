#include "cnn/io/hdf5_tree.h"

#include "cnn/error.h"

namespace cnn::io {

std::vector<std::string> split_h5_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    const size_t end = slash == std::string::npos ? path.size() : slash;
    if (end > start) parts.push_back(path.substr(start, end - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return parts;
}

H5Group& H5Group::group(const std::string& path) {
  H5Group* g = this;
  for (const std::string& part : split_h5_path(path)) {
    if (g->datasets.count(part))
      throw ValueError("HDF5: cannot make group '" + path + "': '" + part + "' is a dataset");
    std::unique_ptr<H5Group>& child = g->groups[part];
    if (!child) child = std::make_unique<H5Group>();
    g = child.get();
  }
  return *g;
}

const H5Group* H5Group::find_group(const std::string& path) const {
  const H5Group* g = this;
  for (const std::string& part : split_h5_path(path)) {
    auto it = g->groups.find(part);
    if (it == g->groups.end()) return nullptr;
    g = it->second.get();
  }
  return g;
}

const H5Dataset* H5Group::find_dataset(const std::string& path) const {
  std::vector<std::string> parts = split_h5_path(path);
  if (parts.empty()) return nullptr;
  const H5Group* g = this;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    auto it = g->groups.find(parts[i]);
    if (it == g->groups.end()) return nullptr;
    g = it->second.get();
  }
  auto it = g->datasets.find(parts.back());
  return it == g->datasets.end() ? nullptr : &it->second;
}

void H5Group::set_dataset(const std::string& path, H5Dataset data) {
  std::vector<std::string> parts = split_h5_path(path);
  if (parts.empty()) throw ValueError("HDF5: a dataset needs a name");
  int64_t numel = 0;  // a file may claim any sizes: the product is checked
  if (!checked_shape_numel(data.shape, &numel) || static_cast<uint64_t>(numel) != data.values.size())
    throw ValueError(str_cat("HDF5: dataset '", path, "' has ", data.values.size(), " values for shape ",
                             shape_str(data.shape)));
  H5Group* g = this;
  for (size_t i = 0; i + 1 < parts.size(); ++i) g = &g->group(parts[i]);
  if (g->groups.count(parts.back()))
    throw ValueError("HDF5: cannot make dataset '" + path + "': a group has that name");
  g->datasets[parts.back()] = std::move(data);
}

std::vector<std::string> H5Group::keras_string_list(const std::string& name) const {
  if (auto it = string_list_attrs.find(name); it != string_list_attrs.end()) return it->second;
  if (auto it = string_attrs.find(name); it != string_attrs.end()) return {it->second};
  std::vector<std::string> out;
  for (int chunk = 0;; ++chunk) {
    auto it = string_list_attrs.find(name + std::to_string(chunk));
    if (it == string_list_attrs.end()) break;
    out.insert(out.end(), it->second.begin(), it->second.end());
  }
  return out;
}

bool H5Group::has_attr(const std::string& name) const {
  return string_attrs.count(name) || string_list_attrs.count(name) || string_list_attrs.count(name + "0");
}

}  // namespace cnn::io
