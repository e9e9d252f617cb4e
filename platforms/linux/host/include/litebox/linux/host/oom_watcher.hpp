// Watches the memory cgroups of the shim's containers and reports each OOM kill (for /tasks/oom), with one
// epoll thread for all of them.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "litebox/linux/cgroups.hpp"

namespace litebox::linux_host {

class OomWatcher {
 public:
  // Called with the watcher's lock held: it must only queue the event, never call back into the watcher.
  using Callback = std::function<void(const std::string& container_id)>;

  explicit OomWatcher(Callback on_oom);
  OomWatcher(const OomWatcher&) = delete;
  OomWatcher& operator=(const OomWatcher&) = delete;
  ~OomWatcher();

  void watch(const std::string& container_id, linux_host::OomNotifier notifier);
  // Reports an OOM kill of the container now if one happened that the watcher's thread has not reported yet:
  // the kill and the init's exit race, and the exit (then Delete, which forgets) can win.
  void collect(const std::string& container_id);
  void forget(const std::string& container_id);

 private:
  void run();

  Callback on_oom_;
  int epoll_fd_ = -1;
  int stop_fd_ = -1;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<linux_host::OomNotifier>> notifiers_;
  std::thread thread_;
};

}  // namespace litebox::linux_host
