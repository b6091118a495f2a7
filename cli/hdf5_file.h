// The native HDF5 edge: real .h5 files to and from the core's H5Group tree,
// through libhdf5's C API (Debian libhdf5-dev).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "cnn/io/hdf5_tree.h"

namespace cnnp {

// Every group, string attribute and numeric dataset (as float32) of the
// file. Throws cnn::ValueError naming the file when it cannot be read.
cnn::io::H5Group read_hdf5_file(const std::string& path);
// The same from an HDF5 file's bytes in memory (a member of a .keras
// archive); `name` names it in errors.
cnn::io::H5Group read_hdf5_image(const uint8_t* data, size_t size, const std::string& name);

// Writes the tree as a new file (replacing one there): strings as
// fixed-length byte strings, as Keras writes them with h5py.
void write_hdf5_file(const cnn::io::H5Group& root, const std::string& path);

}  // namespace cnnp
