// Errors the engine throws. Every message names the op or layer, what it was
// given and what it expected, so a learner can fix the input from it alone.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

#include "cnn/tensor.h"

namespace cnn {

// Shapes that do not fit an op or layer.
class ShapeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Any other invalid argument or configuration (unknown layer, bad label...).
class ValueError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

namespace detail {
inline void append(std::ostringstream&) {}
template <typename T, typename... Rest>
void append(std::ostringstream& os, const T& v, const Rest&... rest) {
  os << v;
  append(os, rest...);
}
}  // namespace detail

// Concatenates its arguments with operator<< into one message.
template <typename... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream os;
  detail::append(os, args...);
  return os.str();
}

// "conv2d: input has shape (2, 5, 5), expected rank 4 (N, H, W, C)".
[[noreturn]] inline void shape_fail(const std::string& op, const std::string& what) {
  throw ShapeError(op + ": " + what);
}

}  // namespace cnn
