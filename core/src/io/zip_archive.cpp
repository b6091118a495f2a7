// The zip format's central directory (PKWARE's APPNOTE): the end record at
// the file's end points at one header per member, and each member's local
// header precedes its bytes.
#include "cnn/io/zip_archive.h"

#include <algorithm>
#include <array>

#include "cnn/error.h"

namespace cnn::io {
namespace {

constexpr uint32_t kEndRecord = 0x06054b50, kZip64End = 0x06064b50, kZip64Locator = 0x07064b50;
constexpr uint32_t kCentralHeader = 0x02014b50, kLocalHeader = 0x04034b50;

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint64_t get(size_t at, int bytes) const {
    if (at > size_ || size_ - at < static_cast<size_t>(bytes)) fail("it is cut short");
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | data_[at + static_cast<size_t>(i)];  // little-endian
    return v;
  }
  [[noreturn]] static void fail(const std::string& what) {
    throw ValueError("zip archive: " + what +
                     " (expected a Keras 3 .keras file as model.save('m.keras') writes it)");
  }

 private:
  const uint8_t* data_;
  size_t size_;
};

uint32_t crc32(const uint8_t* p, size_t n) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

}  // namespace

std::vector<ZipMember> zip_members(const uint8_t* data, size_t size) {
  const Reader r(data, size);
  if (size < 22 || r.get(0, 4) != kLocalHeader) Reader::fail("the bytes are not a zip archive");
  // The end record: the last 22 bytes, or further back past a comment.
  size_t end = size - 22;
  const size_t lowest = size > 22 + 0xFFFF ? size - 22 - 0xFFFF : 0;
  while (r.get(end, 4) != kEndRecord) {
    if (end == lowest) Reader::fail("no end of central directory record");
    --end;
  }
  uint64_t count = r.get(end + 10, 2), dir = r.get(end + 16, 4);
  if (count == 0xFFFF || dir == 0xFFFFFFFF) {  // zip64: the locator sits just before
    if (end < 20 || r.get(end - 20, 4) != kZip64Locator) Reader::fail("a zip64 archive without its locator");
    const uint64_t end64 = r.get(end - 12, 8);
    if (end64 > size || r.get(static_cast<size_t>(end64), 4) != kZip64End)
      Reader::fail("a bad zip64 end record");
    count = r.get(static_cast<size_t>(end64) + 32, 8);
    dir = r.get(static_cast<size_t>(end64) + 48, 8);
  }
  std::vector<ZipMember> out;
  std::vector<uint32_t> crcs;
  size_t at = static_cast<size_t>(dir);
  if (dir > size) Reader::fail("its central directory lies past its end");
  for (uint64_t i = 0; i < count; ++i) {
    if (r.get(at, 4) != kCentralHeader) Reader::fail("a bad central directory entry");
    const uint64_t flags = r.get(at + 8, 2), method = r.get(at + 10, 2), crc = r.get(at + 16, 4);
    uint64_t packed = r.get(at + 20, 4), unpacked = r.get(at + 24, 4), local = r.get(at + 42, 4);
    const size_t name_len = r.get(at + 28, 2), extra_len = r.get(at + 30, 2), comment_len = r.get(at + 32, 2);
    if (at + 46 + name_len > size) Reader::fail("it is cut short");
    ZipMember m;
    m.name.assign(reinterpret_cast<const char*>(data + at + 46), name_len);
    // zip64 sizes and offset, in that order, for each field that overflowed.
    for (size_t e = at + 46 + name_len; e + 4 <= at + 46 + name_len + extra_len;) {
      const uint64_t id = r.get(e, 2), len = r.get(e + 2, 2);
      if (id == 0x0001) {
        size_t f = e + 4;
        if (unpacked == 0xFFFFFFFF) unpacked = r.get(f, 8), f += 8;
        if (packed == 0xFFFFFFFF) packed = r.get(f, 8), f += 8;
        if (local == 0xFFFFFFFF) local = r.get(f, 8);
      }
      e += 4 + len;
    }
    if (flags & 1) Reader::fail("member '" + m.name + "' is encrypted");
    if (method != 0)
      Reader::fail("member '" + m.name + "' is compressed (method " + std::to_string(method) +
                   "); Keras writes its members stored, so this archive was made again by another tool");
    if (packed != unpacked) Reader::fail("member '" + m.name + "' has two different sizes");
    if (local > size || r.get(static_cast<size_t>(local), 4) != kLocalHeader)
      Reader::fail("member '" + m.name + "' has no local header");
    const size_t start = static_cast<size_t>(local) + 30 + r.get(static_cast<size_t>(local) + 26, 2) +
                         r.get(static_cast<size_t>(local) + 28, 2);
    if (start > size || size - start < unpacked) Reader::fail("member '" + m.name + "' is cut short");
    m.offset = start;
    m.size = static_cast<size_t>(unpacked);
    out.push_back(std::move(m));
    crcs.push_back(static_cast<uint32_t>(crc));
    at += 46 + name_len + extra_len + comment_len;
  }
  // Members may not share bytes (so the checksums below read each byte once).
  std::vector<size_t> order(out.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return out[a].offset < out[b].offset; });
  for (size_t i = 1; i < order.size(); ++i)
    if (out[order[i]].offset < out[order[i - 1]].offset + out[order[i - 1]].size)
      Reader::fail("members '" + out[order[i - 1]].name + "' and '" + out[order[i]].name + "' overlap");
  for (size_t i = 0; i < out.size(); ++i)
    if (crc32(data + out[i].offset, out[i].size) != crcs[i])
      Reader::fail("member '" + out[i].name + "' does not match its checksum (the file is damaged)");
  return out;
}

const ZipMember* find_zip_member(const std::vector<ZipMember>& members, const std::string& name) {
  for (const ZipMember& m : members)
    if (m.name == name) return &m;
  return nullptr;
}

}  // namespace cnn::io
