#include "hdf5_file.h"

#include <hdf5.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "cnn/error.h"

namespace cnnp {
namespace {

#if H5_VERSION_GE(1, 12, 0)
using LinkInfo = H5L_info2_t;
#else
using LinkInfo = H5L_info_t;
#endif

using cnn::ValueError;
using cnn::io::H5Dataset;
using cnn::io::H5Group;

// One HDF5 identifier, closed with its own close function.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  operator hid_t() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// libhdf5 prints its error stack to stderr by default; this edge reports
// errors itself, with the file and object named.
void silence_hdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

struct ReadContext {
  std::string file;
  std::string error;  // set by a callback that failed
};

std::string trim_fixed(const char* p, size_t n, H5T_str_t pad) {
  size_t len = strnlen(p, n);
  if (pad == H5T_STR_SPACEPAD)
    while (len > 0 && p[len - 1] == ' ') --len;
  return std::string(p, len);
}

// A string attribute (scalar or 1-D array, fixed or variable length), or an
// empty array of any type (Keras writes an empty weight_names as float64[0]).
void read_attribute(hid_t loc, const char* name, H5Group& g, ReadContext& ctx) {
  Handle attr(H5Aopen(loc, name, H5P_DEFAULT), H5Aclose);
  if (!attr.ok()) throw ValueError(ctx.file + ": cannot open attribute '" + name + "'");
  Handle type(H5Aget_type(attr), H5Tclose);
  Handle space(H5Aget_space(attr), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space);
  const hssize_t count = H5Sget_simple_extent_npoints(space);
  if (rank < 0 || count < 0 || rank > 1) return;  // not a shape the Keras formats use
  if (count == 0) {
    if (rank == 1) g.string_list_attrs[name] = {};
    return;
  }
  if (H5Tget_class(type) != H5T_STRING) return;  // numbers: not used by the Keras formats
  std::vector<std::string> values;
  if (H5Tis_variable_str(type) > 0) {
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem, H5T_VARIABLE);
    H5Tset_cset(mem, H5Tget_cset(type));
    std::vector<char*> buf(static_cast<size_t>(count), nullptr);
    if (H5Aread(attr, mem, buf.data()) < 0)
      throw ValueError(ctx.file + ": cannot read string attribute '" + name + "'");
    for (char* s : buf) {
      values.emplace_back(s ? s : "");
      if (s) H5free_memory(s);
    }
  } else {
    const size_t size = H5Tget_size(type);
    if (size == 0) return;
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem, size);
    H5Tset_strpad(mem, H5Tget_strpad(type));
    H5Tset_cset(mem, H5Tget_cset(type));
    std::vector<char> buf(size * static_cast<size_t>(count));
    if (H5Aread(attr, mem, buf.data()) < 0)
      throw ValueError(ctx.file + ": cannot read string attribute '" + name + "'");
    for (hssize_t i = 0; i < count; ++i)
      values.push_back(trim_fixed(buf.data() + static_cast<size_t>(i) * size, size, H5Tget_strpad(type)));
  }
  if (rank == 0)
    g.string_attrs[name] = values[0];
  else
    g.string_list_attrs[name] = std::move(values);
}

void read_attributes(hid_t obj, H5Group& g, ReadContext& ctx) {
  struct State {
    H5Group* g;
    ReadContext* ctx;
  } state{&g, &ctx};
  hsize_t idx = 0;
  H5Aiterate2(
      obj, H5_INDEX_NAME, H5_ITER_NATIVE, &idx,
      [](hid_t loc, const char* name, const H5A_info_t*, void* data) -> herr_t {
        auto* s = static_cast<State*>(data);
        try {
          read_attribute(loc, name, *s->g, *s->ctx);
        } catch (const std::exception& e) {
          s->ctx->error = e.what();
          return -1;
        }
        return 0;
      },
      &state);
  if (!ctx.error.empty()) throw ValueError(ctx.error);
}

H5Dataset read_dataset(hid_t dset, const std::string& path, ReadContext& ctx) {
  Handle type(H5Dget_type(dset), H5Tclose);
  const H5T_class_t cls = H5Tget_class(type);
  // Keras 3 saves bfloat16 weights through h5py, which keeps them as 2-byte
  // opaque values (the upper half of a float32's bits, little-endian).
  const bool bfloat16 = cls == H5T_OPAQUE && H5Tget_size(type) == 2;
  if (cls != H5T_FLOAT && cls != H5T_INTEGER && !bfloat16)
    throw ValueError(ctx.file + ": dataset '" + path + "' holds neither floats nor integers");
  Handle space(H5Dget_space(dset), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0 || rank > 8) throw ValueError(ctx.file + ": dataset '" + path + "' has an unsupported shape");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  H5Dataset d;
  for (hsize_t n : dims) d.shape.push_back(static_cast<int64_t>(n));
  d.values.resize(static_cast<size_t>(cnn::shape_numel(d.shape)));
  if (d.values.empty()) return d;
  if (bfloat16) {
    std::vector<uint8_t> bytes(2 * d.values.size());
    if (H5Dread(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()) < 0)
      throw ValueError(ctx.file + ": cannot read dataset '" + path + "' as bfloat16");
    for (size_t i = 0; i < d.values.size(); ++i) {
      const uint32_t bits = (uint32_t{bytes[2 * i + 1]} << 24) | (uint32_t{bytes[2 * i]} << 16);
      std::memcpy(&d.values[i], &bits, sizeof bits);
    }
  } else if (H5Dread(dset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, d.values.data()) < 0) {
    throw ValueError(ctx.file + ": cannot read dataset '" + path + "' as float32");
  }
  return d;
}

void read_group(hid_t gid, const std::string& path, H5Group& g, ReadContext& ctx) {
  read_attributes(gid, g, ctx);
  std::vector<std::string> names;
  hsize_t idx = 0;
  H5Literate(
      gid, H5_INDEX_NAME, H5_ITER_NATIVE, &idx,
      [](hid_t, const char* name, const LinkInfo*, void* data) -> herr_t {
        static_cast<std::vector<std::string>*>(data)->emplace_back(name);
        return 0;
      },
      &names);
  for (const std::string& name : names) {
    // model.save's optimizer state (twice the weights for Adam): never restored here, so never read.
    if (path.empty() && name == "optimizer_weights") continue;
    const std::string child_path = path + "/" + name;
    Handle obj(H5Oopen(gid, name.c_str(), H5P_DEFAULT), H5Oclose);
    if (!obj.ok()) continue;  // a dangling soft or external link
    const H5I_type_t kind = H5Iget_type(obj);
    if (kind == H5I_GROUP) {
      auto child = std::make_unique<H5Group>();
      read_group(obj, child_path, *child, ctx);
      g.groups[name] = std::move(child);
    } else if (kind == H5I_DATASET) {
      g.datasets[name] = read_dataset(obj, child_path, ctx);
    }
  }
}

void write_string_attr(hid_t obj, const std::string& name, const std::vector<std::string>& values,
                       bool scalar) {
  // h5py stores a Python bytes value (what Keras hands it) as a fixed-length,
  // NUL-padded string: one length for the whole array, the longest value.
  size_t width = 1;
  for (const std::string& v : values) width = std::max(width, v.size());
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type, width);
  H5Tset_strpad(type, H5T_STR_NULLPAD);
  const hsize_t n = values.size();
  Handle space(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr), H5Sclose);
  Handle attr(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attr.ok()) throw ValueError("HDF5: cannot create attribute '" + name + "'");
  std::vector<char> buf(width * std::max<size_t>(values.size(), 1), '\0');
  for (size_t i = 0; i < values.size(); ++i)
    std::memcpy(buf.data() + i * width, values[i].data(), values[i].size());
  if (H5Awrite(attr, type, buf.data()) < 0) throw ValueError("HDF5: cannot write attribute '" + name + "'");
}

void write_group(hid_t gid, const H5Group& g) {
  for (const auto& [name, value] : g.string_attrs) write_string_attr(gid, name, {value}, true);
  for (const auto& [name, values] : g.string_list_attrs) write_string_attr(gid, name, values, false);
  for (const auto& [name, child] : g.groups) {
    Handle sub(H5Gcreate2(gid, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    if (!sub.ok()) throw ValueError("HDF5: cannot create group '" + name + "'");
    write_group(sub, *child);
  }
  for (const auto& [name, d] : g.datasets) {
    std::vector<hsize_t> dims(d.shape.begin(), d.shape.end());
    Handle space(dims.empty() ? H5Screate(H5S_SCALAR)
                              : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                 H5Sclose);
    Handle dset(H5Dcreate2(gid, name.c_str(), H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                H5Dclose);
    if (!dset.ok()) throw ValueError("HDF5: cannot create dataset '" + name + "'");
    if (!d.values.empty() &&
        H5Dwrite(dset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, d.values.data()) < 0)
      throw ValueError("HDF5: cannot write dataset '" + name + "'");
  }
}

}  // namespace

namespace {
H5Group read_open_file(hid_t id, const std::string& name) {
  Handle file(id, H5Fclose);
  if (!file.ok()) throw ValueError(name + ": cannot open the HDF5 file");
  Handle root(H5Gopen2(file, "/", H5P_DEFAULT), H5Gclose);
  ReadContext ctx{name, ""};
  H5Group tree;
  read_group(root, "", tree, ctx);
  return tree;
}
}  // namespace

H5Group read_hdf5_file(const std::string& path) {
  silence_hdf5();
  if (H5Fis_hdf5(path.c_str()) <= 0)
    throw ValueError(path + ": not an HDF5 file (expected a Keras .h5 file)");
  return read_open_file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), path);
}

H5Group read_hdf5_image(const uint8_t* data, size_t size, const std::string& name) {
  silence_hdf5();
  // The core driver opens the bytes in place of a file (read-only, not written back).
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (H5Pset_fapl_core(fapl, 1 << 20, 0) < 0 || H5Pset_file_image(fapl, const_cast<uint8_t*>(data), size) < 0)
    throw ValueError(name + ": cannot read the HDF5 bytes");
  return read_open_file(H5Fopen(name.c_str(), H5F_ACC_RDONLY, fapl), name);
}

void write_hdf5_file(const H5Group& root, const std::string& path) {
  silence_hdf5();
  // The 1.8 file format at least: attributes over 64 KiB (a big model's
  // model_config) then go to dense storage instead of failing.
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST);
  Handle file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), H5Fclose);
  if (!file.ok()) throw ValueError(path + ": cannot create the file");
  Handle g(H5Gopen2(file, "/", H5P_DEFAULT), H5Gclose);
  try {
    write_group(g, root);
  } catch (const ValueError& e) {
    throw ValueError(path + ": " + e.what());
  }
}

}  // namespace cnnp
