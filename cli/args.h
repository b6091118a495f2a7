// A small --flag value parser for cnnp's subcommands.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace cnnp {

class Args {
 public:
  // `flags`: options that take no value (e.g. --json).
  Args(int argc, char** argv, const std::vector<std::string>& flags);
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::string get(const std::string& name, const std::string& def = "") const;
  double number(const std::string& name, double def) const;
  int64_t integer(const std::string& name, int64_t def) const;
  // All values of a repeatable option (e.g. --image a.png --image b.png), and positionals.
  std::vector<std::string> all(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::multimap<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

// "32x32" -> {32, 32}; throws std::invalid_argument naming the option.
std::pair<int64_t, int64_t> parse_size(const std::string& option, const std::string& value);

}  // namespace cnnp
