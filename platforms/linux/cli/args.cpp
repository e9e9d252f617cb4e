#include "args.hpp"

#include "cli.hpp"

namespace litebox::cli {

std::string ParsedArgs::get(const std::string& name, const std::string& fallback) const {
  auto it = values.find(name);
  return it == values.end() || it->second.empty() ? fallback : it->second.back();
}

const std::vector<std::string>& ParsedArgs::all(const std::string& name) const {
  static const std::vector<std::string> none;
  auto it = values.find(name);
  return it == values.end() ? none : it->second;
}

std::optional<ParsedArgs> parse_args(const std::vector<std::string>& args, std::size_t start,
                                     const std::vector<FlagSpec>& flags, bool stop_at_positional,
                                     std::string& error) {
  ParsedArgs out;
  bool flags_done = false;
  for (std::size_t i = start; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (flags_done || arg.size() < 2 || arg[0] != '-') {
      if (out.positional.empty()) out.first_positional_index = i;
      out.positional.push_back(arg);
      if (stop_at_positional) flags_done = true;
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    std::string_view body(arg);
    body.remove_prefix(body.substr(0, 2) == "--" ? 2 : 1);
    std::optional<std::string> inline_value;
    if (const auto eq = body.find('='); eq != std::string_view::npos) {
      inline_value = std::string(body.substr(eq + 1));
      body = body.substr(0, eq);
    }
    const FlagSpec* spec = nullptr;
    for (const auto& f : flags) {
      if (f.name == body || (!f.alias.empty() && f.alias == body)) spec = &f;
    }
    if (spec == nullptr) {
      error = "flag provided but not defined: -" + std::string(body);
      return std::nullopt;
    }
    std::string value = "true";
    if (spec->takes_value) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        error = "flag needs an argument: -" + spec->name;
        return std::nullopt;
      }
    } else if (inline_value) {
      value = *inline_value;
    }
    auto& slot = out.values[spec->name];
    if (!spec->repeatable) slot.clear();
    slot.push_back(value);
  }
  return out;
}

std::optional<ParsedArgs> parse_command(const std::vector<std::string>& args, const std::vector<FlagSpec>& flags,
                                        std::size_t positional_min, const char* usage, bool stop_at_positional) {
  std::string error;
  auto parsed = parse_args(args, 0, flags, stop_at_positional, error);
  if (!parsed) {
    fail(error);
    return std::nullopt;
  }
  if (parsed->positional.size() < positional_min) {
    fail(std::string("usage: litebox-runtime ") + usage);
    return std::nullopt;
  }
  return parsed;
}

}  // namespace litebox::cli
