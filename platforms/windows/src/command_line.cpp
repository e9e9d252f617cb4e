#include <windows.h>

#include "litebox/windows/command_line.hpp"

#include <algorithm>
#include <cerrno>
#include <cwctype>
#include <map>
#include <optional>

#include "litebox/windows/utf.hpp"

namespace litebox::windows_host {
namespace {

void append_quoted(std::wstring& out, const std::wstring& arg) {
  if (!arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring::npos) {
    out += arg;
    return;
  }
  out += L'"';
  std::size_t backslashes = 0;
  for (wchar_t c : arg) {
    if (c == L'\\') {
      ++backslashes;
      continue;
    }
    // Backslashes before a quote are escapes: double them, then escape the quote itself.
    if (c == L'"') out.append(backslashes * 2 + 1, L'\\');
    else out.append(backslashes, L'\\');
    backslashes = 0;
    out += c;
  }
  out.append(backslashes * 2, L'\\');  // before the closing quote
  out += L'"';
}

std::wstring upper(std::wstring s) {
  for (auto& c : s) c = static_cast<wchar_t>(std::towupper(c));
  return s;
}

bool is_file(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec);
}

// p itself, or p.exe when p has no extension and names no file.
std::optional<std::filesystem::path> executable(const std::filesystem::path& p) {
  if (is_file(p)) return p;
  if (!p.has_extension()) {
    auto with_exe = p;
    with_exe += L".exe";
    if (is_file(with_exe)) return with_exe;
  }
  return std::nullopt;
}

}  // namespace

std::wstring quote_command_line(const std::vector<std::string>& args) {
  std::wstring out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i != 0) out += L' ';
    append_quoted(out, widen(args[i]));
  }
  return out;
}

std::wstring environment_block(const std::vector<std::string>& env) {
  // Keyed by the upper-cased name: Windows names are case-insensitive and its blocks are sorted that way.
  std::map<std::wstring, std::wstring> sorted;
  for (const auto& entry : env) {
    const auto eq = entry.find('=', 1);  // "=C:=C:\\" style names start with '='
    if (eq == std::string::npos) continue;
    const std::wstring wide = widen(entry);
    const std::wstring name = widen(entry.substr(0, eq));
    sorted[upper(name)] = wide;
  }
  if (sorted.find(L"SYSTEMROOT") == sorted.end()) {
    wchar_t root[MAX_PATH];
    const DWORD n = GetEnvironmentVariableW(L"SystemRoot", root, MAX_PATH);
    if (n > 0 && n < MAX_PATH) sorted[L"SYSTEMROOT"] = L"SystemRoot=" + std::wstring(root, n);
  }
  std::wstring block;
  for (const auto& [key, entry] : sorted) {
    block += entry;
    block += L'\0';
  }
  if (block.empty()) block += L'\0';
  block += L'\0';
  return block;
}

std::filesystem::path path_in_root(const std::filesystem::path& rootfs, const std::string& path) {
  std::wstring rel = widen(path);
  std::replace(rel.begin(), rel.end(), L'/', L'\\');
  if (rel.size() >= 2 && rel[1] == L':') rel.erase(0, 2);  // the drive is the root folder's
  std::filesystem::path out = rootfs;
  for (const auto& part : std::filesystem::path(rel)) {
    const std::wstring s = part.native();
    if (s.empty() || s == L"\\" || s == L".") continue;
    if (s == L"..") {
      if (out != rootfs) out = out.parent_path();
      continue;
    }
    out /= part;
  }
  return out;
}

platform::Expected<std::filesystem::path> find_program(const std::string& arg0, const std::filesystem::path& rootfs,
                                                       const std::vector<std::string>& env) {
  if (arg0.empty()) return platform::Error{EINVAL, "exec: empty program name"};
  const std::wstring wide = widen(arg0);
  const bool has_separator = wide.find_first_of(L"\\/:") != std::wstring::npos;
  if (has_separator) {
    const std::filesystem::path given(wide);
    // An absolute host path is honoured as it is (HostProcess containers run host programs too); any
    // other path is under the root.
    if (given.is_absolute()) {
      if (auto p = executable(given)) return *p;
    }
    if (auto p = executable(path_in_root(rootfs, arg0))) return *p;
    return platform::Error{ENOENT, "exec: \"" + arg0 + "\": no such file or directory"};
  }
  if (auto p = executable(rootfs / wide)) return *p;
  std::string path_value;
  for (const auto& entry : env) {
    if (entry.size() > 5 && upper(widen(entry.substr(0, 5))) == L"PATH=") path_value = entry.substr(5);
  }
  std::size_t start = 0;
  while (start <= path_value.size() && !path_value.empty()) {
    const auto end = path_value.find(';', start);
    const std::string dir = path_value.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!dir.empty()) {
      if (auto p = executable(std::filesystem::path(widen(dir)) / wide)) return *p;
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return platform::Error{ENOENT, "exec: \"" + arg0 + "\": executable file not found in %PATH%"};
}

}  // namespace litebox::windows_host
