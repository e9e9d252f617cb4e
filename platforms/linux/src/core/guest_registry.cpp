// The core's bookkeeping of guest tasks: which table a task uses, execve's trimming once the kernel did it,
// adoption of descriptors the guest got without the core, and installs at the number both tables agree on.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <spdlog/spdlog.h>

#include "core_state.hpp"
#include "litebox/linux/core/guest_credentials.hpp"
#include "litebox/linux/core/guest_table.hpp"

namespace litebox::linux_host::core::detail {
namespace {


int open_pidfd(pid_t pid) noexcept { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

fdcore::DescriptorKind kind_of(int raw) noexcept {
  int domain = 0;
  socklen_t len = sizeof domain;
  if (::getsockopt(raw, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0) {
    return domain == AF_UNIX ? fdcore::DescriptorKind::unix_socket : fdcore::DescriptorKind::raw;
  }
  const std::string target = descriptor_target(::getpid(), raw);
  if (target == "anon_inode:[eventfd]") return fdcore::DescriptorKind::eventfd;
  if (target == "anon_inode:[eventpoll]") return fdcore::DescriptorKind::epoll;
  return fdcore::DescriptorKind::raw;
}

int pidfd_of(Call& call, pid_t tgid) {
  auto it = call.container.pidfds.find(tgid);
  if (it != call.container.pidfds.end()) return it->second;
  const int pidfd = open_pidfd(tgid);
  if (pidfd < 0) return -errno;
  call.container.pidfds.emplace(tgid, pidfd);
  if (call.watch_exit) call.watch_exit(pidfd, tgid);
  return pidfd;
}

// Numbers the table lists that the kernel has closed (a failed assumption somewhere) are dropped, numbers the
// kernel has that the table lacks are adopted: after this the two agree. With `identity`, each number is also
// checked to name the same open file description in both (a fork's snapshot against the child's real table).
void reconcile_table(Call& call, TaskFiles& tf, pid_t tgid, bool identity = false) {
  const std::vector<int> kernel = guest_fd_numbers(tgid);
  for (const auto& d : tf.files.list()) {
    const bool open = std::binary_search(kernel.begin(), kernel.end(), static_cast<int>(d.fd));
    if (!open || (identity && same_description(tgid, d.raw, static_cast<int>(d.fd)) != 1)) {
      spdlog::debug("core {}: pid {} fd {} differs in the kernel; taken from there", call.container.id, tgid, d.fd);
      (void)tf.files.close(d.fd);
    }
  }
  for (int fd : kernel) {
    if (!tf.files.files()->is_open(static_cast<std::uint32_t>(fd))) (void)adopt_guest_fd(call, tf, tgid, fd);
  }
}

// The runtime's set-up code exec'd the container's program (an execve went to the kernel from
// `tf.exec_tid`): from now on the table is the core's, and it starts as the kernel has it (what the runtime
// realized from the process's initial FilesState; the set-up's own descriptors were close-on-exec).
void resolve_exec(Call& call, std::shared_ptr<TaskFiles>& tf, pid_t tgid) {
  tf->exec_tid = 0;
  if (!tf->setup) return;
  tf->setup = false;
  reconcile_table(call, *tf, tgid);
  spdlog::debug("core {}: pid {} runs its program with {} descriptors", call.container.id, tgid,
                tf->files.files()->open_count());
}

}  // namespace

std::uint64_t guest_nofile(pid_t tid) noexcept {
  struct rlimit lim{};
  if (::prlimit(tid, RLIMIT_NOFILE, nullptr, &lim) != 0) return Files::kDefaultNofile;
  return lim.rlim_cur;
}

Ref adopt_raw(Container& c, int raw, fdcore::DescriptorKind kind) {
  fdcore::OpenFileSpec spec;
  spec.kind = kind;
  const int flags = ::fcntl(raw, F_GETFL);
  spec.open_flags = flags < 0 ? fdcore::abi::o_rdwr : static_cast<std::uint32_t>(flags);
  static const pid_t shim = ::getpid();
  spec.target = descriptor_target(shim, raw);
  spec.fasync = spec.target.starts_with("pipe:") || spec.target.starts_with("socket:") ||
                spec.target.starts_with("/dev/pts/");
  spec.direct_io = spec.target.starts_with("pipe:");
  auto ref = c.store->adopt(raw, std::move(spec));
  if (!ref) {
    ::close(raw);
    return nullptr;
  }
  return std::move(ref).value();
}

int adopt_guest_fd(Call& call, TaskFiles& tf, pid_t tgid, int fd) {
  if (tf.still_closing(tgid, fd)) return -EBADF;
  const int pidfd = pidfd_of(call, tgid);
  if (pidfd < 0) return pidfd;
  GuestFdInfo info;
  if (int r = guest_fd_info(tgid, fd, info); r < 0) return r;
  const int raw = take_guest_fd(pidfd, fd);
  if (raw < 0) return raw;
  // The same description under another number already: share it, as the kernel does.
  Ref ref;
  for (const auto& d : tf.files.list()) {
    if (same_description(tgid, raw, static_cast<int>(d.fd)) == 1) {
      auto got = tf.files.get(d.fd);
      if (got) ref = std::move(got).value();
      break;
    }
  }
  if (ref) {
    ::close(raw);
  } else {
    ref = adopt_raw(call.container, raw, kind_of(raw));
    if (!ref) return -ENOMEM;
  }
  auto placed = tf.files.files()->install_at(static_cast<std::uint32_t>(fd), std::move(ref), info.cloexec);
  if (!placed) return -static_cast<int>(placed.error());
  call.counters.adopted.fetch_add(1, std::memory_order_relaxed);
  spdlog::debug("core {}: pid {} adopted fd {} ({})", call.container.id, tgid, fd,
                descriptor_target(tgid, fd));
  return 0;
}

bool reconcile_number(Call& call, TaskFiles& tf, pid_t tgid, int fd) {
  if (fd < 0) return false;
  if (tf.files.files()->is_open(static_cast<std::uint32_t>(fd))) return true;
  if (guest_fd_open(tgid, fd) != 1) return false;
  return adopt_guest_fd(call, tf, tgid, fd) == 0;
}

std::shared_ptr<TaskFiles> files_for_task(Call& call, pid_t tid) {
  Container& c = call.container;
  auto it = c.tasks.find(tid);
  if (it == c.tasks.end()) {
    // A task seen for the first time: a thread or a child of a known process (the core holds no snapshot of
    // a forking parent's table, whose references would keep pipe ends open after the child is gone). It
    // shares a known table when the kernel says so; otherwise its table is read from the kernel, sharing
    // the parent's descriptions number by number.
    auto creds = read_guest_credentials(tid);
    if (!creds) return nullptr;
    const pid_t tgid = creds.value().tgid;
    std::shared_ptr<TaskFiles> files;
    std::shared_ptr<TaskFiles> parent_files;
    pid_t parent_tgid = 0;
    for (const auto& [t, task] : c.tasks) {
      if (task.tgid != tgid && task.tgid != creds.value().ppid) continue;
      if (same_table(t, tid) == 1) {
        files = task.files;
        break;
      }
      if (task.tgid == creds.value().ppid && !parent_files) {
        parent_files = task.files;
        parent_tgid = task.tgid;
      }
    }
    const bool fresh = !files;
    if (fresh) {
      files = std::make_shared<TaskFiles>(Files::create(c.store));
      files->setup = parent_files && parent_files->setup;
    }
    it = c.tasks.emplace(tid, Task{tgid, files}).first;
    if (pidfd_of(call, tgid) < 0) {
      c.tasks.erase(it);
      return nullptr;
    }
    if (fresh && !files->setup) {
      for (int fd : guest_fd_numbers(tgid)) {
        if (parent_files) {
          auto ref = parent_files->files.get(static_cast<std::uint32_t>(fd));
          if (ref && same_description(tgid, ref.value()->raw(), fd) == 1) {
            GuestFdInfo info;
            (void)guest_fd_info(tgid, fd, info);
            (void)files->files.files()->install_at(static_cast<std::uint32_t>(fd), std::move(ref).value(), info.cloexec);
            continue;
          }
        }
        (void)adopt_guest_fd(call, *files, tgid, fd);
      }
      spdlog::debug("core {}: pid {} (child of {}) starts with {} descriptors", c.id, tgid, parent_tgid,
                    files->files.files()->open_count());
    }
  }
  Task& task = it->second;
  if (task.files->exec_tid != 0 && (task.files->exec_tid == tid || task.tgid == tid)) {
    resolve_exec(call, task.files, task.tgid);
  }
  return task.files;
}

void TaskFiles::start_closing(int fd, pid_t tid, int raw) {
  Closing entry{tid, {}};
  if (raw >= 0) (void)own_fd_object(raw, entry.object);
  closing[fd] = entry;
}

bool TaskFiles::still_closing(pid_t tgid, int fd) {
  const auto c = closing.find(fd);
  if (c == closing.end()) return false;
  DescriptorObject now;
  const int r = guest_fd_object(tgid, fd, now);
  // Unreadable for another reason than "not open" (-ENOENT): whether the number is open at all decides.
  const bool same = r == 0 ? (!c->second.object.known() || now == c->second.object)
                           : r != -ENOENT && guest_fd_open(tgid, fd) == 1;
  if (same) return true;
  closing.erase(c);
  return false;
}

void TaskFiles::forget_closed(pid_t tgid) {
  for (auto i = closing.begin(); i != closing.end();) {
    const int fd = i->first;
    ++i;  // still_closing may erase fd's entry, not the next one
    (void)still_closing(tgid, fd);
  }
}

Reply install_lowest(Call& call, TaskFiles& tf, pid_t tgid, Ref ref, bool cloexec, bool send) {
  const pid_t tid = call.n.pid;
  (void)tf.files.set_nofile(std::min<std::uint64_t>(guest_nofile(tid), tf.files.files()->nr_open()));
  const int expected = tf.files.lowest_free(0);
  if (expected < 0) return Reply::fail(EMFILE);
  const int got = add_descriptor(call.listener, call.n.id, ref->raw(), -1, cloexec, send);
  if (got < 0) return Reply::fail(-got);  // -ENOENT: the guest no longer waits; nothing was installed
  if (got != expected) {
    // The kernel skipped numbers the table thought free: descriptors the guest got without the core.
    for (int fd = expected; fd < got; ++fd) {
      if (!tf.files.files()->is_open(static_cast<std::uint32_t>(fd))) (void)adopt_guest_fd(call, tf, tgid, fd);
    }
  }
  tf.forget_closed(tgid);
  (void)tf.files.files()->install_at(static_cast<std::uint32_t>(got), std::move(ref), cloexec);
  return send ? Reply::already_sent(got) : Reply::ok(got);
}

}  // namespace litebox::linux_host::core::detail
