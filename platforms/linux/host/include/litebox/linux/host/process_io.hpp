// The I/O of one container process (the init or one exec): how its stdin/stdout/stderr reach containerd's
// clients through the paths of Create/Exec (protocol notes, section 5).
//
//   - ""                   no stream: the process gets /dev/null.
//   - "/path" (a FIFO the client made; "fifo:///path" too)
//       stdout/stderr: the shim opens the FIFO O_RDWR (never blocks, and keeps a reader so a detached client
//       costs the process neither a block nor EPIPE) and the process gets its own O_WRONLY descriptor of the
//       FIFO: no copying, nothing lost when the process exits right after writing. finish() closes the
//       shim's descriptor, so the client sees EOF once the process's own descriptors are gone.
//       stdin: the shim opens the FIFO O_RDWR|O_NONBLOCK and a thread copies it into a pipe the process
//       reads. The process sees EOF only after close_stdin() (CloseIO), not when a client's writer goes
//       away: a client may open its end late, detach and attach again.
//     A plain path naming a regular file is appended to (stdout/stderr) or read (stdin) directly.
//   - "file:///abs/path"   stdout and stderr appended to that file (created 0644, parents 0755).
//   - "binary:///abs/prog?k=v&k2=v2"   containerd's logging binary: started as `prog k v k2 v2` with only
//       CONTAINER_ID and CONTAINER_NAMESPACE in its environment, /dev/null as 0-2, the read ends of the
//       stdout and stderr pipes as fd 3 and 4 and a "ready" pipe as fd 5 that it writes to or closes once
//       ready. The process gets the pipes' write ends.
//   file:// and binary:// are read from the stdout path and take both streams (the stderr path is ignored),
//   as containerd does.
//
// With a terminal the process's 0-2 are the pty's slave; the shim owns the master (attach()) and one thread
// copies stdin -> master and master -> stdout; stderr, when a path is given, only gets EOF at finish().
//
// Lifecycle: open() before the process is created -> process_stdio() to the runtime -> attach() once the
// process exists (or destroy the object when creation failed) -> close_stdin()/resize() any time ->
// finish() after the process exited -> destructor. All methods may be called from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "litebox/linux/container.hpp"
#include "litebox/linux/error.hpp"
#include "litebox/platform/host.hpp"

namespace litebox::linux_host {

using platform::StdioPaths;

// What one stdio path of Create/Exec names.
struct StdioUri {
  enum class Kind { none, path, file, binary };
  Kind kind = Kind::none;
  std::string path;               // decoded; absolute for file and binary
  std::vector<std::string> args;  // binary: the query as `k v k2 v2 ...`, in the order written, first value per key
};

// "" -> none; "/p", "relative" or "fifo:///p" -> path; "file:///p" -> file; "binary:///p?k=v" -> binary.
// Percent-escapes are decoded ('+' is a space in the query). Other schemes are an error, as in containerd.
linux_host::Expected<StdioUri> parse_stdio_uri(std::string_view uri);

struct ProcessIoOptions {
  // How long open() waits for a logging binary to write to or close its fd 5.
  std::chrono::milliseconds logger_ready_timeout{10000};
  // After finish() gave a logging binary `drain_limit` to exit on its own (it sees EOF once the process's
  // descriptors are gone) it gets SIGTERM, and SIGKILL when still there this much later.
  std::chrono::milliseconds logger_term_grace{1000};
};

class ProcessIo {
 public:
  // Opens what the paths name (and starts the logging binary). Never blocks on a FIFO nobody has opened.
  // Errors name the stream and path: "open stdout fifo /run/x/stdout: No such file or directory".
  static linux_host::Expected<std::unique_ptr<ProcessIo>> open(const StdioPaths& paths, std::string_view container_id,
                                                               std::string_view ns, const ProcessIoOptions& options = {});

  ~ProcessIo();  // stops the copy thread, closes everything, terminates and reaps its logging binary
  ProcessIo(const ProcessIo&) = delete;
  ProcessIo& operator=(const ProcessIo&) = delete;

  // The descriptors for the runtime's ProcessStdio (still owned by this object; the runtime duplicates
  // them). Valid until attach(); all /dev/null with a terminal.
  linux_host::ProcessStdio process_stdio() const;

  // After the process was created: closes this object's copies of the process's ends. Takes ownership of
  // `console_master` (-1 without a terminal) in every case, and with a terminal starts copying between it
  // and the FIFOs. Misuse (a terminal without its master, a master without a terminal, a second call) is
  // logged as a warning; the master is closed then.
  void attach(int console_master);

  // TIOCSWINSZ on the master (ResizePty: width = columns, height = rows). An error without a terminal.
  linux_host::Status resize(std::uint32_t width_columns, std::uint32_t height_rows);

  // CloseIO{stdin=true}: what the client wrote into the stdin FIFO so far is delivered, then the process
  // sees EOF (the pipe's write end is closed; with a terminal the VEOF character, ^D, is written when the
  // terminal is in canonical mode). Returns at once; the stdin FIFO is closed too. Idempotent.
  void close_stdin();

  // After the process exited: with a terminal, copies what the master still holds until it reports EIO
  // (every holder of the slave gone), then closes the shim's descriptors so readers of the FIFOs see EOF
  // once the process's own descriptors are closed too. Waits at most `drain_limit` for the copying and again
  // at most `drain_limit` for a logging binary to exit (then SIGTERM, SIGKILL after logger_term_grace).
  // The stdin FIFO stays open until the destructor, so a client still writing gets no EPIPE before Delete.
  // Idempotent; later calls return at once.
  void finish(std::chrono::milliseconds drain_limit);

  bool terminal() const;
  // The logging binary's pid (0 without one). It is the shim's child: a reaper calling waitpid(-1) may
  // reap it; this object copes (it follows the process through a pidfd) but the reaper should not take it
  // for a container process.
  pid_t logger_pid() const;

 private:
  struct Impl;
  explicit ProcessIo(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace litebox::linux_host
