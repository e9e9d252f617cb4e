#include "commands/shim_log.hpp"

#ifndef _WIN32
#include <fcntl.h>
#include <unistd.h>
#endif

#include <google/protobuf/stubs/logging.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace litebox::shim {
namespace {

void configure(spdlog::sink_ptr sink, const std::string& level, bool debug) {
  auto logger = std::make_shared<spdlog::logger>("shim", std::move(sink));
  logger->set_pattern("time=\"%Y-%m-%dT%H:%M:%S.%f%z\" level=%l msg=\"%v\" runtime=io.containerd.litebox.v1 pid=%P");
  spdlog::level::level_enum parsed = debug ? spdlog::level::debug : spdlog::level::info;
  if (!level.empty()) parsed = spdlog::level::from_str(level);
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  // protobuf reports some parse failures of hostile input (invalid UTF-8 in a string field) on stderr by
  // itself; the call already fails with INVALID_ARGUMENT, so its line belongs in the debug log.
  google::protobuf::SetLogHandler([](google::protobuf::LogLevel severity, const char* file, int line,
                                     const std::string& message) {
    if (severity >= google::protobuf::LOGLEVEL_FATAL) {
      spdlog::critical("protobuf {}:{}: {}", file, line, message);
    } else {
      spdlog::debug("protobuf {}:{}: {}", file, line, message);
    }
  });
}

}  // namespace

void log_to_stderr(const std::string& level, bool debug) {
  configure(std::make_shared<spdlog::sinks::stderr_sink_mt>(), level, debug);
}

void log_to_sink(spdlog::sink_ptr sink, const std::string& level, bool debug) { configure(std::move(sink), level, debug); }

#ifndef _WIN32
void log_to_containerd_fifo(const std::string& level, bool debug) {
  const int fd = ::open("log", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd >= 0) {
    ::dup2(fd, 2);
    ::close(fd);
  }
  log_to_stderr(level, debug);
}

#endif

}  // namespace litebox::shim
