#include "args.h"

#include <algorithm>
#include <cstdlib>

namespace cnnp {

namespace {
bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string takes(const std::string& command, const std::vector<std::string>& options,
                  const std::vector<std::string>& flags) {
  std::vector<std::string> all;
  for (const auto& o : options) all.push_back("--" + o);
  for (const auto& f : flags) all.push_back("--" + f);
  std::sort(all.begin(), all.end());
  std::string s = "cnnp " + command + " takes ";
  for (size_t i = 0; i < all.size(); ++i) s += (i ? ", " : "") + all[i];
  return s + " (see cnnp help)";
}
}  // namespace

Args::Args(int argc, char** argv, const std::string& command, const std::vector<std::string>& options,
           const std::vector<std::string>& flags) {
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--", 0) != 0)
      throw std::invalid_argument("unexpected '" + a +
                                  "': every value follows its option, e.g. --epochs 5; " +
                                  takes(command, options, flags));
    const size_t eq = a.find('=');
    const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    if (contains(flags, name)) {
      if (eq != std::string::npos)
        throw std::invalid_argument("--" + name + " takes no value, got '" + a + "'");
      values_.emplace(name, "true");
    } else if (!contains(options, name)) {
      throw std::invalid_argument("unknown option '--" + name + "': " + takes(command, options, flags));
    } else if (eq != std::string::npos) {
      values_.emplace(name, a.substr(eq + 1));
    } else if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
      values_.emplace(name, argv[++i]);
    } else {
      throw std::invalid_argument("--" + name + " needs a value");
    }
  }
}

bool wants_help(int argc, char** argv) {
  for (int i = 0; i < argc; ++i)
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") return true;
  return false;
}

std::string Args::get(const std::string& name, const std::string& def) const {
  auto it = values_.find(name);
  return it == values_.end() ? def : it->second;
}

std::vector<std::string> Args::all(const std::string& name) const {
  std::vector<std::string> out;
  auto [b, e] = values_.equal_range(name);
  for (auto it = b; it != e; ++it) out.push_back(it->second);
  return out;
}

double Args::number(const std::string& name, double def) const {
  if (!has(name)) return def;
  const std::string v = get(name);
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end) throw std::invalid_argument("--" + name + " needs a number, got '" + v + "'");
  return d;
}

int64_t Args::integer(const std::string& name, int64_t def) const {
  const double d = number(name, static_cast<double>(def));
  if (d != static_cast<double>(static_cast<int64_t>(d)))
    throw std::invalid_argument("--" + name + " needs a whole number, got '" + get(name) + "'");
  return static_cast<int64_t>(d);
}

std::pair<int64_t, int64_t> parse_size(const std::string& option, const std::string& value) {
  const size_t x = value.find('x');
  char* e1 = nullptr;
  char* e2 = nullptr;
  const std::string a = value.substr(0, x), b = x == std::string::npos ? "" : value.substr(x + 1);
  const long h = std::strtol(a.c_str(), &e1, 10), w = std::strtol(b.c_str(), &e2, 10);
  if (x == std::string::npos || a.empty() || b.empty() || *e1 || *e2 || h < 1 || w < 1)
    throw std::invalid_argument("--" + option + " '" + value +
                                "' must be HEIGHTxWIDTH with both at least 1, e.g. 32x32");
  return {h, w};
}

}  // namespace cnnp
