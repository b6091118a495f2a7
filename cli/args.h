// A small --option value parser for cnnp's subcommands.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace cnnp {

class Args {
 public:
  // `options` take a value (--epochs 5 or --epochs=5), `flags` take none
  // (--json). Anything else is refused with a message that names it and
  // lists what `command` takes: a mistyped option must not be ignored, and a
  // flag must not swallow the option after it.
  Args(int argc, char** argv, const std::string& command, const std::vector<std::string>& options,
       const std::vector<std::string>& flags = {});
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::string get(const std::string& name, const std::string& def = "") const;
  double number(const std::string& name, double def) const;
  int64_t integer(const std::string& name, int64_t def) const;
  // All values of a repeatable option (e.g. --image a.png --image b.png).
  std::vector<std::string> all(const std::string& name) const;

 private:
  std::multimap<std::string, std::string> values_;
};

// True when argv holds --help or -h.
bool wants_help(int argc, char** argv);

// "32x32" -> {32, 32}; throws std::invalid_argument naming the option.
std::pair<int64_t, int64_t> parse_size(const std::string& option, const std::string& value);

}  // namespace cnnp
