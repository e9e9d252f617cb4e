#include "litebox/linux/host/oom_watcher.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <vector>

#include <spdlog/spdlog.h>

namespace litebox::linux_host {

OomWatcher::OomWatcher(Callback on_oom) : on_oom_(std::move(on_oom)) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd_ < 0 || stop_fd_ < 0) {
    spdlog::warn("oom watcher: cannot create epoll/eventfd: {}; OOM events will not be reported", errno);
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = stop_fd_;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, stop_fd_, &ev);
  thread_ = std::thread([this] { run(); });
}

OomWatcher::~OomWatcher() {
  if (thread_.joinable()) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(stop_fd_, &one, sizeof one);
    thread_.join();
  }
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

void OomWatcher::watch(const std::string& container_id, linux_host::OomNotifier notifier) {
  if (epoll_fd_ < 0 || notifier.fd() < 0) return;
  auto owned = std::make_unique<linux_host::OomNotifier>(std::move(notifier));
  std::lock_guard lock(mutex_);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = owned->fd();
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, owned->fd(), &ev) != 0) {
    spdlog::warn("oom watcher: cannot watch {}: errno {}", container_id, errno);
    return;
  }
  notifiers_[container_id] = std::move(owned);
}

void OomWatcher::collect(const std::string& container_id) {
  std::lock_guard lock(mutex_);
  auto it = notifiers_.find(container_id);
  if (it == notifiers_.end()) return;
  auto fired = it->second->consume();
  if (fired.ok() && fired.value()) on_oom_(container_id);
}

void OomWatcher::forget(const std::string& container_id) {
  collect(container_id);
  std::lock_guard lock(mutex_);
  auto it = notifiers_.find(container_id);
  if (it == notifiers_.end()) return;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second->fd(), nullptr);
  notifiers_.erase(it);
}

void OomWatcher::run() {
  epoll_event events[16];
  for (;;) {
    const int n = ::epoll_wait(epoll_fd_, events, 16, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    // Reported under the lock (the callback only queues the event): a collect() for the init's exit then
    // either finds this kill reported already or reports it itself, so /tasks/oom precedes /tasks/exit.
    std::lock_guard lock(mutex_);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.fd == stop_fd_) return;
      for (auto& [id, notifier] : notifiers_) {
        if (notifier->fd() != events[i].data.fd) continue;
        auto fired = notifier->consume();
        if (fired.ok() && fired.value()) on_oom_(id);
        break;
      }
    }
  }
}

}  // namespace litebox::linux_host
