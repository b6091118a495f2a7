// The members of a zip archive held in memory, as Keras 3's .keras files
// need them: Python's zipfile writes them stored (uncompressed), so a
// member's bytes are read in place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cnn::io {

struct ZipMember {
  std::string name;
  size_t offset = 0;  // of the member's bytes in the archive
  size_t size = 0;
};

// The archive's members from its central directory (zip64 included), each
// checked against its CRC-32. Throws ValueError naming what is wrong: not
// a zip, cut short, a member compressed or encrypted (not read here).
std::vector<ZipMember> zip_members(const uint8_t* data, size_t size);

// The member called `name`, or nullptr.
const ZipMember* find_zip_member(const std::vector<ZipMember>& members, const std::string& name);

}  // namespace cnn::io
