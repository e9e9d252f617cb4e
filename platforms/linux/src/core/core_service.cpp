// The core's threads: a receiver on epoll (core channels, guest processes' exits), a serving thread per listener
// and a pool of workers for the opens that might block. See core_service.hpp.
#include "litebox/linux/core/core_service.hpp"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <list>
#include <fstream>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "core_state.hpp"
#include "litebox/linux/core/core_filter.hpp"
#include "litebox/linux/core/guest_credentials.hpp"
#include "litebox/linux/unix_socket.hpp"
#include "path_open.hpp"

namespace litebox::linux_host::core {

using detail::Container;
using detail::Reply;

namespace {

// Workers beyond this wait for one to come free: each blocked call holds one.
constexpr int kMaxWorkers = 64;

// A listener stays open while a notification received from it may still be answered.
struct Listener {
  explicit Listener(int f) : fd(f) {}
  ~Listener() { ::close(fd); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  int fd;
};

struct Job {
  std::shared_ptr<Container> container;
  std::shared_ptr<Listener> listener;
  Notification n;
  std::shared_ptr<detail::OpenRequest> prepared;  // an open the listener's thread prepared for the pool
};

std::uint64_t clock_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::string syscall_name(int nr) {
  const CoreSyscall* p = core_policy_for(nr);
  return p ? std::string(p->name) : "syscall " + std::to_string(nr);
}

std::string read_comm(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string comm;
  std::getline(in, comm);
  return comm;
}

// Descriptors beyond the default 1024 are the norm here: the core keeps four per guest thread it serves.
void raise_nofile() {
  struct rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

}  // namespace

class CoreService::Impl {
 public:
  Impl() {
    raise_nofile();
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &ev);
    receiver_ = std::thread([this] { receive_loop(); });
  }

  ~Impl() {
    {
      std::lock_guard lock(queue_mu_);
      stopping_ = true;
    }
    const std::uint64_t one = 1;
    (void)!::write(wake_, &one, sizeof one);
    queue_cv_.notify_all();
    if (receiver_.joinable()) receiver_.join();
    for (auto& t : workers_) t.join();
    std::list<std::pair<std::thread, std::shared_ptr<std::atomic<bool>>>> listeners;
    {
      std::lock_guard lock(mu_);
      listeners.swap(listener_threads_);
    }
    for (auto& [thread, done] : listeners) thread.join();
    std::lock_guard lock(watch_mu_);
    for (auto& [fd, w] : watches_) {
      if (w.type == WatchType::channel) ::close(fd);
    }
    watches_.clear();
    ::close(epoll_);
    ::close(wake_);
    // The containers (their processes' pidfds, their threads' descriptors) go with containers_.
  }

  void add_container(const std::string& id, ContainerCorePolicy policy) {
    std::lock_guard lock(mu_);
    container_locked(id, policy);
  }

  Status add_channel(const std::string& id, int channel) {
    auto c = container(id, {});
    auto watched = watch(channel, Watch{WatchType::channel, c, 0});
    if (!watched) ::close(channel);
    return watched;
  }

  Status add_listener(const std::string& id, int listener_fd, pid_t pid) {
    auto c = container(id, {});
    auto listener = std::make_shared<Listener>(listener_fd);
    {
      std::lock_guard clock(c->mu);
      Notification none;
      none.pid = pid;
      detail::Call call = make_call(c, -1, none);
      (void)detail::process_for(call, pid);  // met now: its exit is watched from the start
    }
    spdlog::debug("core {}: serving pid {} (listener {})", id, pid, listener_fd);
    std::lock_guard lock(mu_);
    reap_listener_threads_locked();
    auto done = std::make_shared<std::atomic<bool>>(false);
    listener_threads_.emplace_back(std::thread([this, c, listener, done] {
                                     listener_loop(c, listener);
                                     done->store(true);
                                   }),
                                   done);
    return {};
  }

  void remove_container(const std::string& id) {
    std::shared_ptr<Container> c;
    {
      std::lock_guard lock(mu_);
      auto it = containers_.find(id);
      if (it == containers_.end()) return;
      c = it->second;
      containers_.erase(it);
    }
    {
      std::lock_guard lock(watch_mu_);
      for (auto w = watches_.begin(); w != watches_.end();) {
        if (w->second.container.get() == c.get()) {
          ::epoll_ctl(epoll_, EPOLL_CTL_DEL, w->first, nullptr);
          if (w->second.type == WatchType::channel) ::close(w->first);
          w = watches_.erase(w);
        } else {
          ++w;
        }
      }
    }
    std::lock_guard clock(c->mu);
    c->processes.clear();
    c->threads.clear();
  }

  Expected<std::vector<ProcessTable>> tables(const std::string& id, pid_t pid) {
    std::shared_ptr<Container> c;
    {
      std::lock_guard lock(mu_);
      auto it = containers_.find(id);
      if (it == containers_.end()) return Error{ENOENT, "container \"" + id + "\" is not served by the LiteBox core"};
      c = it->second;
    }
    std::vector<ProcessTable> out;
    std::lock_guard clock(c->mu);
    std::vector<pid_t> tgids;
    for (const auto& [tgid, process] : c->processes) tgids.push_back(tgid);
    std::sort(tgids.begin(), tgids.end());
    for (pid_t tgid : tgids) {
      if (pid != 0 && tgid != pid) continue;
      detail::GuestProcess& process = *c->processes.at(tgid);
      detail::reconcile(*c, counters_, process);  // what the kernel did since: closes, dups, execve, fork
      ProcessTable table;
      table.pid = tgid;
      auto creds = read_guest_credentials(tgid);
      if (!creds) continue;  // exited (its exit event is on its way)
      table.guest_pid = !creds.value().nstgids.empty() ? creds.value().nstgids.back() : tgid;
      table.command = read_comm(tgid);
      table.descriptors = process.files.list();
      out.push_back(std::move(table));
    }
    if (pid != 0 && out.empty()) {
      return Error{ENOENT, "process " + std::to_string(pid) + " of container \"" + id + "\" is not known to the core"};
    }
    return out;
  }

  Stats stats() const {
    return Stats{counters_.served.load(), counters_.native.load(), counters_.denied.load(), counters_.adopted.load()};
  }

  void set_profiling(bool on) {
    clock_.on.store(false);
    clock_.calls.store(0);
    for (auto& ns : clock_.ns) ns.store(0);
    clock_.on.store(on);
  }

  Profile profile() const {
    Profile out;
    out.calls = clock_.calls.load();
    for (std::size_t i = 0; i < kCorePhaseCount; ++i) out.ns[i] = clock_.ns[i].load();
    return out;
  }

 private:
  // What the receiver's epoll watches: core channels (listeners arrive on them) and guest processes' exits.
  // Listeners themselves are served by their own threads.
  enum class WatchType { channel, exit };
  struct Watch {
    WatchType type;
    std::shared_ptr<Container> container;
    pid_t pid;
  };

  // The container, registered now if it is new (with `policy`; a known one keeps its own).
  std::shared_ptr<Container> container(const std::string& id, ContainerCorePolicy policy) {
    std::lock_guard lock(mu_);
    return container_locked(id, policy);
  }

  std::shared_ptr<Container> container_locked(const std::string& id, ContainerCorePolicy policy) {
    auto& slot = containers_[id];
    if (!slot) {
      // The mirrors' descriptions hold no descriptor of ours (the guest's kernel table holds the objects):
      // the hook only runs for raw-backed ones, which the core does not make.
      slot = std::make_shared<Container>(id, policy, detail::Store::create([](int raw) { ::close(raw); }));
    }
    return slot;
  }

  detail::Call make_call(const std::shared_ptr<Container>& c, int listener, const Notification& n) {
    detail::Call call{*c, listener, n, counters_, clock_, {}, true, {}};
    call.watch_exit = [this, c](int pidfd, pid_t tgid) { (void)watch(pidfd, Watch{WatchType::exit, c, tgid}); };
    return call;
  }

  // Lock order: a container's mutex may be held when this is called (watch_mu_ is taken inside it, never the
  // other way round).
  Status watch(int fd, Watch w) {
    std::lock_guard lock(watch_mu_);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) != 0) return Error::from_errno("watch a core descriptor");
    watches_[fd] = std::move(w);
    return {};
  }

  void unwatch_locked(int fd) {
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
    watches_.erase(fd);
  }

  void receive_loop() {
    epoll_event events[32];
    while (true) {
      const int count = ::epoll_wait(epoll_, events, 32, -1);
      if (count < 0) {
        if (errno == EINTR) continue;
        spdlog::error("core: epoll_wait: {}", std::strerror(errno));
        return;
      }
      for (int i = 0; i < count; ++i) {
        const int fd = events[i].data.fd;
        if (fd == wake_) {
          std::lock_guard lock(queue_mu_);
          if (stopping_) return;
          continue;
        }
        handle_event(fd);
      }
    }
  }

  void handle_event(int fd) {
    std::unique_lock lock(watch_mu_);
    auto it = watches_.find(fd);
    if (it == watches_.end()) return;
    const Watch w = it->second;
    switch (w.type) {
      case WatchType::channel: {
        char buffer[64];
        int listener = -1;
        const long got = receive_with_descriptor(fd, buffer, sizeof buffer - 1, listener);
        unwatch_locked(fd);
        ::close(fd);
        if (got <= 0 || listener < 0) {
          if (listener >= 0) ::close(listener);
          if (got < 0) spdlog::warn("core {}: core channel: {}", w.container->id, std::strerror(static_cast<int>(-got)));
          return;
        }
        const pid_t pid = parse_core_channel_message(std::string_view(buffer, static_cast<std::size_t>(got)));
        if (pid <= 0) {
          spdlog::warn("core {}: malformed core channel message", w.container->id);
          ::close(listener);
          return;
        }
        lock.unlock();
        if (auto st = add_listener(w.container->id, listener, pid); !st) {
          spdlog::warn("core {}: {}", w.container->id, st.error().message);
        }
        return;
      }
      case WatchType::exit: {
        unwatch_locked(fd);
        lock.unlock();
        Container& c = *w.container;
        std::lock_guard clock(c.mu);
        auto& threads = c.threads;
        for (auto t = threads.begin(); t != threads.end();) {
          t = t->second.tgid == w.pid ? threads.erase(t) : std::next(t);
        }
        if (auto p = c.processes.find(w.pid); p != c.processes.end() && p->second->pidfd.get() == fd) {
          c.processes.erase(p);  // closes the pidfd
        }
        spdlog::debug("core {}: pid {} exited; forgotten", c.id, w.pid);
        return;
      }
    }
  }

  // A listener's own thread: it receives and serves inline (no hand-off, which costs two context switches per
  // call), passing only calls that might block to the pool.
  void listener_loop(const std::shared_ptr<Container>& c, const std::shared_ptr<Listener>& listener) {
    if (auto st = prepare_worker_thread(); !st) spdlog::error("core: listener thread: {}", st.error().message);
    receive_promptly(*c, listener->fd);
    (void)detail::prepare_path_worker();
    pollfd fds[2] = {{listener->fd, POLLIN, 0}, {wake_, POLLIN, 0}};
    while (true) {
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents != 0) return;  // stopping
      if ((fds[0].revents & POLLIN) != 0) {
        Job job{c, listener, {}, {}};
        const int r = receive_notification(listener->fd, job.n);
        if (r == -ENOENT) continue;
        if (r < 0) {
          spdlog::warn("core {}: listener: {}", c->id, std::strerror(-r));
          return;
        }
        serve(job, false);
        continue;
      }
      if ((fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) return;  // every task of this filter is gone
    }
  }

  // A guest's stopped call can be interrupted by a signal until the core has received it, so the receiving
  // thread must run the moment a call stops: with the kernel's synchronous wake-up the stopping guest hands
  // its CPU straight to it. It stays in the normal class at the normal priority. The answer to an open is an
  // ADDFD, whose wake-up of the guest is a plain one (not synchronous, as of Linux 6.18), and the scheduler
  // often sends the guest to another, idle CPU and this thread back to its own; a real-time class makes that
  // happen at every call (measured per ADDFD round trip on the idle 2-CPU VM: 65 to 70 us under SCHED_FIFO,
  // mostly 40 to 60 us at the normal priority, 3.2 us with both on one CPU, 5 to 22 us with both CPUs busy),
  // and does not make the window before the receipt any shorter (about 2 us).
  static void receive_promptly(const Container& c, int listener) {
    if (const int r = request_sync_wake_up(listener); r < 0) {
      spdlog::debug("core {}: no synchronous wake-up on this kernel ({})", c.id, std::strerror(-r));
    }
  }

  void reap_listener_threads_locked() {
    for (auto it = listener_threads_.begin(); it != listener_threads_.end();) {
      if (it->second->load()) {
        it->first.join();
        it = listener_threads_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void enqueue(Job job) {
    std::lock_guard lock(queue_mu_);
    jobs_.push_back(std::move(job));
    // A worker that just answered may not be waiting yet: count the jobs nobody has taken, not only idleness.
    if (static_cast<int>(jobs_.size()) > idle_ && static_cast<int>(workers_.size()) < kMaxWorkers) {
      workers_.emplace_back([this] { work_loop(); });
    } else {
      queue_cv_.notify_one();
    }
  }

  void work_loop() {
    if (auto st = prepare_worker_thread(); !st) spdlog::error("core: worker: {}", st.error().message);
    (void)detail::prepare_path_worker();
    std::unique_lock lock(queue_mu_);
    while (true) {
      ++idle_;
      queue_cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      --idle_;
      if (stopping_) return;
      Job job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      serve(job, true);
      lock.lock();
    }
  }

  void serve(Job& job, bool may_block) {
    const auto& n = job.n;
    auto c = job.container;
    detail::Call call = make_call(c, job.listener->fd, n);
    call.may_block = may_block;
    call.prepared = std::move(job.prepared);
    Reply reply;
    try {
      reply = detail::serve_call(call);
    } catch (const std::exception& e) {
      spdlog::error("core {}: pid {} {}: {}", c->id, n.pid, syscall_name(n.nr), e.what());
      reply = Reply::fail(ENOMEM);
    }
    const bool profiling = clock_.on.load(std::memory_order_relaxed);
    const std::uint64_t answer_start = profiling ? clock_ns() : 0;
    int r = 0;
    switch (reply.kind) {
      case Reply::Kind::defer:
        job.prepared = std::move(call.prepared);
        enqueue(std::move(job));
        return;
      case Reply::Kind::value:
        r = respond_value(job.listener->fd, n.id, reply.value);
        counters_.served.fetch_add(1, std::memory_order_relaxed);
        break;
      case Reply::Kind::error:
        r = respond_error(job.listener->fd, n.id, static_cast<int>(reply.value));
        counters_.served.fetch_add(1, std::memory_order_relaxed);
        break;
      case Reply::Kind::native:
        r = respond_continue(job.listener->fd, n.id);
        counters_.native.fetch_add(1, std::memory_order_relaxed);
        break;
      case Reply::Kind::sent:
        counters_.served.fetch_add(1, std::memory_order_relaxed);
        break;
    }
    if (profiling) {
      clock_.ns[static_cast<std::size_t>(CorePhase::answer)].fetch_add(clock_ns() - answer_start,
                                                                       std::memory_order_relaxed);
      clock_.calls.fetch_add(1, std::memory_order_relaxed);
    }
    if (spdlog::should_log(spdlog::level::debug)) {
      const char* how = reply.kind == Reply::Kind::native ? "native" : reply.kind == Reply::Kind::error ? "error" : "=";
      const std::string result = reply.kind == Reply::Kind::error ? std::strerror(static_cast<int>(reply.value))
                                                                  : std::to_string(reply.value);
      spdlog::debug("core {}: pid {} {}({:#x}, {:#x}, {:#x}) {} {}{}{}", c->id, n.pid, syscall_name(n.nr), n.args[0],
                    n.args[1], n.args[2], how, result, may_block ? " (on the pool)" : "",
                    r < 0 ? " (the guest no longer waits)" : "");
    }
  }

  mutable std::mutex mu_;  // containers_, listener_threads_
  std::unordered_map<std::string, std::shared_ptr<Container>> containers_;
  std::list<std::pair<std::thread, std::shared_ptr<std::atomic<bool>>>> listener_threads_;
  std::mutex watch_mu_;  // watches_ (taken inside a container's mutex, never around one)
  std::unordered_map<int, Watch> watches_;
  int epoll_ = -1;
  int wake_ = -1;
  std::thread receiver_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Job> jobs_;
  std::vector<std::thread> workers_;
  int idle_ = 0;
  bool stopping_ = false;
  detail::Counters counters_;
  detail::PhaseClock clock_;
};

CoreService::CoreService() : impl_(std::make_unique<Impl>()) {}
CoreService::~CoreService() = default;
void CoreService::add_container(const std::string& id, ContainerCorePolicy policy) { impl_->add_container(id, policy); }
Status CoreService::add_channel(const std::string& id, int channel) { return impl_->add_channel(id, channel); }
Status CoreService::add_listener(const std::string& id, int listener, pid_t pid) {
  return impl_->add_listener(id, listener, pid);
}
void CoreService::remove_container(const std::string& id) { impl_->remove_container(id); }
Expected<std::vector<ProcessTable>> CoreService::tables(const std::string& id, pid_t pid) const {
  return impl_->tables(id, pid);
}
CoreService::Stats CoreService::stats() const { return impl_->stats(); }
void CoreService::set_profiling(bool on) { impl_->set_profiling(on); }
CoreService::Profile CoreService::profile() const { return impl_->profile(); }

std::string_view core_phase_name(CorePhase phase) noexcept {
  switch (phase) {
    case CorePhase::dispatch: return "dispatch";
    case CorePhase::guest_memory: return "guest memory";
    case CorePhase::credentials: return "credentials";
    case CorePhase::user_namespace: return "user namespace";
    case CorePhase::root: return "root";
    case CorePhase::probe: return "probe";
    case CorePhase::open: return "open";
    case CorePhase::install: return "install (ADDFD)";
    case CorePhase::record: return "record";
    case CorePhase::answer: return "answer";
  }
  return "?";
}

}  // namespace litebox::linux_host::core
