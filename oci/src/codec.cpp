// Private: the non-template parts of the reflection layer, document parsing and the indented writer.
#include "codec.hpp"

#include <spdlog/spdlog.h>

#include <utility>

namespace oci::detail {

void ErrorSink::add(std::string pointer, std::string message) {
  if (overflowed_) return;
  if (errors_.size() + 1 >= max_) {
    errors_.push_back({"", "too many errors (limit " + std::to_string(max_) + "); the rest are not reported"});
    overflowed_ = true;
    return;
  }
  errors_.push_back({std::move(pointer), std::move(message)});
}

std::string_view kind_of(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
  }
  return "an unknown kind of value";
}

std::string child(const std::string& base, std::string_view token) {
  return base + "/" + escape_pointer_token(token);
}

std::string child(const std::string& base, std::size_t index) { return base + "/" + std::to_string(index); }

void note_unknown_member(const std::string& pointer) {
  spdlog::debug("oci: ignoring unknown member {}", pointer);
}

void read(const json::value& v, bool& out, const std::string& ptr, ErrorSink& sink) {
  if (v.is_bool()) {
    out = v.get_bool();
    return;
  }
  sink.add(ptr, "must be a boolean, got " + std::string(kind_of(v)));
}

void read(const json::value& v, std::string& out, const std::string& ptr, ErrorSink& sink) {
  if (v.is_string()) {
    out.assign(v.get_string().data(), v.get_string().size());
    return;
  }
  sink.add(ptr, "must be a string, got " + std::string(kind_of(v)));
}

void read(const json::value& v, Status& out, const std::string& ptr, ErrorSink& sink) {
  if (!v.is_string()) {
    sink.add(ptr, "must be a string (creating, created, running or stopped), got " + std::string(kind_of(v)));
    return;
  }
  const std::string_view name(v.get_string().data(), v.get_string().size());
  if (auto s = status_from_string(name)) {
    out = *s;
    return;
  }
  sink.add(ptr, "unknown status " + json::serialize(v) + " (expected creating, created, running or stopped)");
}

json::value write(bool b) { return json::value(b); }
json::value write(const std::string& s) { return json::value(json::string_view(s.data(), s.size())); }
json::value write(Status s) {
  const std::string_view name = to_string(s);
  return json::value(json::string_view(name.data(), name.size()));
}

json::value raw_to_value(const std::string& text) {
  json::error_code ec;
  json::parse_options opts;
  opts.max_depth = 256;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec, json::storage_ptr(), opts);
  if (ec) return json::value(json::string_view(text.data(), text.size()));
  return v;
}

std::optional<json::value> parse_document(std::string_view text, const ParseLimits& limits, ErrorSink& sink) {
  if (text.size() > limits.max_bytes) {
    sink.add("", "document is " + std::to_string(text.size()) + " bytes, more than the limit of " +
                     std::to_string(limits.max_bytes) + " bytes");
    return std::nullopt;
  }
  json::parse_options opts;
  opts.max_depth = limits.max_depth;
  json::stream_parser parser(json::storage_ptr(), opts);
  json::error_code ec;
  const std::size_t consumed = parser.write(text.data(), text.size(), ec);
  if (!ec) parser.finish(ec);
  if (ec) {
    std::string message;
    if (ec == json::error::too_deep) {
      message = "not accepted: nesting deeper than the limit of " + std::to_string(limits.max_depth) + " levels";
    } else {
      message = "not valid JSON: " + ec.message();
    }
    message += " (near byte " + std::to_string(consumed) + ")";
    sink.add("", std::move(message));
    return std::nullopt;
  }
  return parser.release();
}

namespace {

void newline(std::string& out, int depth) {
  out += '\n';
  out.append(static_cast<std::size_t>(depth) * 2, ' ');
}

void write_indented(const json::value& v, std::string& out, int depth) {
  if (v.is_object()) {
    const json::object& o = v.get_object();
    if (o.empty()) {
      out += "{}";
      return;
    }
    out += '{';
    bool first = true;
    for (const auto& kv : o) {
      if (!first) out += ',';
      first = false;
      newline(out, depth + 1);
      out += json::serialize(json::string(kv.key()));
      out += ": ";
      write_indented(kv.value(), out, depth + 1);
    }
    newline(out, depth);
    out += '}';
  } else if (v.is_array()) {
    const json::array& a = v.get_array();
    if (a.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    bool first = true;
    for (const auto& x : a) {
      if (!first) out += ',';
      first = false;
      newline(out, depth + 1);
      write_indented(x, out, depth + 1);
    }
    newline(out, depth);
    out += ']';
  } else {
    out += json::serialize(v);
  }
}

}  // namespace

std::string serialize(const json::value& v, JsonStyle style) {
  if (style == JsonStyle::compact) return json::serialize(v);
  std::string out;
  write_indented(v, out, 0);
  out += '\n';
  return out;
}

}  // namespace oci::detail
