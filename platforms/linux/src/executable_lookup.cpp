#include "litebox/linux/executable_lookup.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "child_safe_error.hpp"

namespace litebox::linux_host {
namespace {

// Go's findExecutable: 0 when `path` is an executable file, else the errno; `stat_failed` tells the stat
// error (worded "stat <path>: ...") from the others.
int check_executable(const std::string& path, bool& stat_failed) {
  stat_failed = false;
  struct stat file_stat {};
  if (stat(path.c_str(), &file_stat) != 0) {
    stat_failed = true;
    return errno;
  }
  if (S_ISDIR(file_stat.st_mode)) {
    return EISDIR;
  }
  if (faccessat(AT_FDCWD, path.c_str(), X_OK, AT_EACCESS) == 0) {
    return 0;
  }
  int error = errno;
  // ENOSYS: no faccessat2; EPERM: a seccomp profile refused it. Then the mode bits decide, as in Go.
  if (error != ENOSYS && error != EPERM) {
    return error;
  }
  return (file_stat.st_mode & 0111) != 0 ? 0 : EACCES;
}

Error lookup_error(const std::string& name, const std::string& detail_text, int code) {
  return Error{code, "exec: \"" + name + "\": " + detail_text};
}

}  // namespace

std::string container_path_variable(const std::vector<std::string>& env) {
  const std::string* path = nullptr;
  for (const std::string& entry : env) {
    if (entry.starts_with("PATH=")) {
      path = &entry;
    }
  }
  return path != nullptr ? path->substr(5) : std::string(kDefaultContainerPath);
}

Expected<std::string> find_executable(const std::string& name, std::string_view path_variable) {
  bool stat_failed = false;
  if (name.find('/') != std::string::npos) {
    int error = check_executable(name, stat_failed);
    if (error == 0) {
      return name;
    }
    if (stat_failed) {
      return lookup_error(name, "stat " + name + ": " + detail::go_errno_text(error), error);
    }
    return lookup_error(name, detail::go_errno_text(error), error);
  }
  std::string_view rest = path_variable;
  for (;;) {
    std::size_t colon = rest.find(':');
    std::string directory(rest.substr(0, colon));
    if (directory.empty()) {
      directory = ".";  // shell semantics
    }
    std::string candidate = directory.ends_with('/') ? directory + name : directory + "/" + name;
    if (check_executable(candidate, stat_failed) == 0) {
      if (!candidate.starts_with('/')) {
        return lookup_error(name, "cannot run executable found relative to current directory", ENOENT);
      }
      return candidate;
    }
    if (colon == std::string_view::npos) {
      break;
    }
    rest = rest.substr(colon + 1);
  }
  return lookup_error(name, "executable file not found in $PATH", ENOENT);
}

Error execute(const std::string& path, const std::vector<std::string>& args, const std::vector<std::string>& env) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const std::string& arg : args) {
    argv.push_back(const_cast<char*>(arg.c_str()));  // execve does not write them
  }
  argv.push_back(nullptr);
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (const std::string& entry : env) {
    envp.push_back(const_cast<char*>(entry.c_str()));
  }
  envp.push_back(nullptr);
  int error = 0;
  do {
    execve(path.c_str(), argv.data(), envp.data());
    error = errno;
  } while (error == EINTR);
  return Error{error, "exec " + path + ": " + detail::go_errno_text(error)};
}

}  // namespace litebox::linux_host
