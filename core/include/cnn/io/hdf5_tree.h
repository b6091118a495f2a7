// The part of an HDF5 file that Keras's formats use, held in memory: groups,
// string and string-list attributes, float32 datasets. The core reads and
// writes Keras files through this tree; the platform edges move it to and
// from real files (cli/ with libhdf5, the npm package with h5wasm).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cnn/tensor.h"

namespace cnn::io {

struct H5Dataset {
  Shape shape;                // () for a scalar
  std::vector<float> values;  // row-major, numel(shape) values
};

struct H5Group {
  // Text attributes: a scalar string, or a 1-D array of strings (Keras's
  // layer_names / weight_names); fixed- and variable-length alike.
  std::map<std::string, std::string> string_attrs;
  std::map<std::string, std::vector<std::string>> string_list_attrs;
  std::map<std::string, std::unique_ptr<H5Group>> groups;
  std::map<std::string, H5Dataset> datasets;

  // The group at a '/'-separated path below this one, made when missing
  // (also the groups on the way). Throws ValueError if a dataset is in the way.
  H5Group& group(const std::string& path);
  // The group or dataset at a path, or nullptr.
  const H5Group* find_group(const std::string& path) const;
  const H5Dataset* find_dataset(const std::string& path) const;
  // Stores a dataset at a path, making the groups on the way.
  void set_dataset(const std::string& path, H5Dataset data);
  // Keras's load_attributes_from_hdf5_group: `name`, or when it was too
  // large for one attribute, `name0`, `name1`, ... concatenated. Empty
  // when absent.
  std::vector<std::string> keras_string_list(const std::string& name) const;
  bool has_attr(const std::string& name) const;
};

// Splits "a/b/c" into its non-empty parts.
std::vector<std::string> split_h5_path(const std::string& path);

}  // namespace cnn::io
