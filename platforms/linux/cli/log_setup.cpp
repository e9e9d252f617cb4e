#include "log_setup.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>

namespace litebox::cli {
namespace {

// One JSON object per line, appended, as runc's --log-format json writes them.
class JsonLineSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit JsonLineSink(std::FILE* file) : file_(file) {}
  ~JsonLineSink() override { std::fclose(file_); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const auto secs = std::chrono::system_clock::to_time_t(msg.time);
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const auto level = spdlog::level::to_string_view(msg.level);
    const std::string level_name = level.size() == 4 && std::string(level.data(), level.size()) == "warn"
                                       ? "warning"
                                       : std::string(level.data(), level.size());
    const boost::json::object line{{"level", level_name},
                                   {"msg", std::string(msg.payload.data(), msg.payload.size())},
                                   {"time", stamp}};
    const std::string text = boost::json::serialize(line) + "\n";
    std::fwrite(text.data(), 1, text.size(), file_);
  }
  void flush_() override { std::fflush(file_); }

 private:
  std::FILE* file_;
};

}  // namespace

bool setup_logging(const GlobalOptions& options, std::string& error) {
  std::vector<spdlog::sink_ptr> sinks;
  auto console = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  console->set_pattern("litebox-runtime: %v");
  console->set_level(options.debug ? spdlog::level::debug : spdlog::level::err);
  sinks.push_back(console);
  if (!options.log_path.empty()) {
    if (options.log_format == "json") {
      std::FILE* file = std::fopen(options.log_path.c_str(), "ae");
      if (file == nullptr) {
        error = "cannot open log file " + options.log_path;
        return false;
      }
      sinks.push_back(std::make_shared<JsonLineSink>(file));
    } else if (options.log_format == "text") {
      try {
        sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.log_path));
      } catch (const spdlog::spdlog_ex& e) {
        error = e.what();
        return false;
      }
    } else {
      error = "unknown --log-format \"" + options.log_format + "\" (text or json)";
      return false;
    }
  }
  auto logger = std::make_shared<spdlog::logger>("litebox-runtime", sinks.begin(), sinks.end());
  logger->set_level(options.debug ? spdlog::level::debug : spdlog::level::info);
  logger->flush_on(spdlog::level::debug);
  spdlog::set_default_logger(logger);
  return true;
}

int fail(const std::string& message) {
  spdlog::error("{}", message);
  return 1;
}

}  // namespace litebox::cli
