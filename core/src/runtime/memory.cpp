#include "cnn/memory.h"

#include <atomic>
#include <cstdio>

namespace cnn {
namespace {
std::atomic<size_t> g_budget{0};
std::atomic<size_t> g_in_use{0};
std::atomic<size_t> g_peak{0};
}  // namespace

void set_memory_budget(size_t bytes) { g_budget = bytes; }
size_t memory_budget() { return g_budget; }
size_t tensor_bytes_in_use() { return g_in_use; }
size_t peak_tensor_bytes() { return g_peak; }
void reset_peak_tensor_bytes() { g_peak = g_in_use.load(); }

std::string human_bytes(double bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

namespace detail {

void reserve_tensor_bytes(size_t bytes, const std::string& what) {
  const size_t budget = g_budget;
  size_t now = g_in_use.fetch_add(bytes) + bytes;
  if (budget && now > budget) {
    g_in_use.fetch_sub(bytes);
    throw ResourceError("out of memory budget: " + what + " needs " +
                        human_bytes(static_cast<double>(bytes)) + ", and " +
                        human_bytes(static_cast<double>(now - bytes)) + " of the engine's " +
                        human_bytes(static_cast<double>(budget)) +
                        " are in use; use a smaller batch size, smaller images or a smaller model");
  }
  size_t peak = g_peak;
  while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
  }
}

void release_tensor_bytes(size_t bytes) { g_in_use.fetch_sub(bytes); }

}  // namespace detail
}  // namespace cnn
