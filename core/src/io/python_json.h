// JSON written the way Python's json.dumps writes it (Keras's to_json):
// ", " and ": " separators, insertion-ordered keys, ASCII-only strings.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace cnn {

// A float32 setting as the shortest decimal that reads back to it, so 0.99f
// serialises as 0.99 (as Keras writes it) rather than 0.9900000095367432.
double float_json(float v);

std::string python_dumps(const nlohmann::ordered_json& j);

}  // namespace cnn
