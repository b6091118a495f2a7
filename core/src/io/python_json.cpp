#include "io/python_json.h"

#include <cstdio>
#include <cstdlib>

namespace cnn {

double float_json(float v) {
  char buf[32];
  for (int precision = 1; precision <= 9; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, static_cast<double>(v));
    if (std::strtof(buf, nullptr) == v) return std::strtod(buf, nullptr);
  }
  return static_cast<double>(v);
}

namespace {
void dump(const nlohmann::ordered_json& j, std::string& out) {
  if (j.is_object()) {
    out += '{';
    bool first = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!first) out += ", ";
      first = false;
      out += nlohmann::ordered_json(it.key()).dump(-1, ' ', true);
      out += ": ";
      dump(it.value(), out);
    }
    out += '}';
  } else if (j.is_array()) {
    out += '[';
    for (size_t i = 0; i < j.size(); ++i) {
      if (i) out += ", ";
      dump(j[i], out);
    }
    out += ']';
  } else {
    out += j.dump(-1, ' ', true);
  }
}
}  // namespace

std::string python_dumps(const nlohmann::ordered_json& j) {
  std::string out;
  dump(j, out);
  return out;
}

}  // namespace cnn
