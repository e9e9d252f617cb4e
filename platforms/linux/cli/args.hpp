// Command-line parsing with runc's conventions (urfave/cli): flags before positional arguments,
// `--flag value`, `--flag=value`, `-flag value`, single-letter aliases, and `--` to end the flags.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace litebox::cli {

struct FlagSpec {
  std::string name;            // "bundle"
  std::string alias;           // "b", or empty
  bool takes_value = false;    // false: a boolean switch
  bool repeatable = false;     // may be given several times (--env A --env B)
};

struct ParsedArgs {
  std::map<std::string, std::vector<std::string>> values;  // by FlagSpec::name
  std::vector<std::string> positional;
  std::size_t first_positional_index = 0;  // where the first positional argument stood in `args`

  bool has(const std::string& name) const { return values.count(name) != 0; }
  // The last value given, or `fallback`.
  std::string get(const std::string& name, const std::string& fallback = {}) const;
  const std::vector<std::string>& all(const std::string& name) const;
};

// Parses args[start..]. Flags stop at the first positional argument when `stop_at_positional` (so that
// `exec ID sh -c x` passes `-c` to the container), or at "--". Errors come back in `error`.
std::optional<ParsedArgs> parse_args(const std::vector<std::string>& args, std::size_t start,
                                     const std::vector<FlagSpec>& flags, bool stop_at_positional,
                                     std::string& error);

}  // namespace litebox::cli
