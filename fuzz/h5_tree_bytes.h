// A compact byte form of an io::H5Group tree, so the HDF5 weight mapping can
// be fuzzed without libhdf5 in the loop (the mapping reads the tree; the
// libhdf5 and h5wasm edges only fill it). Every byte string parses into some
// tree; the seed maker writes real Keras files in this form.
//
// Form: a sequence of records, each an op byte, then
//   0 group     name            (enters a child group; made when missing)
//   1 up                        (back to the parent group)
//   2 attr      name value      (a string attribute)
//   3 list      name u8 count, count values (a string-list attribute)
//   4 dataset   name u8 rank, rank x u16 dims (values: a fixed pattern)
// where a name or value is a u16 length and that many bytes. A record cut
// short ends the tree.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "cnn/io/hdf5_tree.h"

namespace cnnfuzz {

inline cnn::io::H5Group tree_from_bytes(const uint8_t* data, size_t size) {
  cnn::io::H5Group root;
  std::vector<cnn::io::H5Group*> stack{&root};
  size_t at = 0;
  auto u8 = [&](uint8_t& v) {
    if (at >= size) return false;
    v = data[at++];
    return true;
  };
  auto u16 = [&](uint16_t& v) {
    if (at + 2 > size) return false;
    v = static_cast<uint16_t>(data[at] | (data[at + 1] << 8));
    at += 2;
    return true;
  };
  auto str = [&](std::string& s) {
    uint16_t n = 0;
    if (!u16(n) || at + n > size) return false;
    s.assign(reinterpret_cast<const char*>(data + at), n);
    at += n;
    return true;
  };
  for (uint8_t op = 0; u8(op);) {
    std::string name, value;
    switch (op % 5) {
      case 0:
        if (!str(name)) return root;
        try {
          stack.push_back(&stack.back()->group(name));
        } catch (const std::exception&) {
          // a dataset of that name is in the way: stay where we are
        }
        break;
      case 1:
        if (stack.size() > 1) stack.pop_back();
        break;
      case 2:
        if (!str(name) || !str(value)) return root;
        stack.back()->string_attrs[name] = value;
        break;
      case 3: {
        uint8_t count = 0;
        if (!str(name) || !u8(count)) return root;
        std::vector<std::string> values(count);
        for (std::string& v : values)
          if (!str(v)) return root;
        stack.back()->string_list_attrs[name] = std::move(values);
        break;
      }
      case 4: {
        uint8_t rank = 0;
        if (!str(name) || !u8(rank)) return root;
        cnn::io::H5Dataset d;
        int64_t n = 1;
        for (uint8_t r = 0; r < rank % 6; ++r) {
          uint16_t dim = 0;
          if (!u16(dim)) return root;
          d.shape.push_back(dim);
          n = std::min<int64_t>(n * dim, int64_t{1} << 40);  // no overflow: dims are below 2^16
        }
        if (n > (int64_t{1} << 22)) continue;  // the fuzzer's memory, not the mapping, would be tested
        d.values.resize(static_cast<size_t>(n));
        for (size_t i = 0; i < d.values.size(); ++i) d.values[i] = static_cast<float>(i % 7) * 0.25f - 0.5f;
        try {
          stack.back()->set_dataset(name, std::move(d));
        } catch (const std::exception&) {
          // a group of that name is in the way, or the name is empty
        }
        break;
      }
    }
  }
  return root;
}

// The inverse for the seed maker (dataset values are not kept).
inline void tree_to_bytes(const cnn::io::H5Group& g, std::vector<uint8_t>& out) {
  auto u16 = [&](size_t v) {
    out.push_back(static_cast<uint8_t>(v & 0xff));
    out.push_back(static_cast<uint8_t>((v >> 8) & 0xff));
  };
  auto str = [&](const std::string& s) {
    const size_t n = s.size() > 0xffff ? 0xffff : s.size();
    u16(n);
    out.insert(out.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n));
  };
  for (const auto& [name, value] : g.string_attrs) {
    out.push_back(2);
    str(name);
    str(value);
  }
  for (const auto& [name, values] : g.string_list_attrs) {
    out.push_back(3);
    str(name);
    out.push_back(static_cast<uint8_t>(values.size() > 255 ? 255 : values.size()));
    for (size_t i = 0; i < values.size() && i < 255; ++i) str(values[i]);
  }
  for (const auto& [name, d] : g.datasets) {
    out.push_back(4);
    str(name);
    out.push_back(static_cast<uint8_t>(d.shape.size()));
    for (int64_t dim : d.shape) u16(static_cast<size_t>(dim));
  }
  for (const auto& [name, child] : g.groups) {
    out.push_back(0);
    str(name);
    tree_to_bytes(*child, out);
    out.push_back(1);
  }
}

}  // namespace cnnfuzz
