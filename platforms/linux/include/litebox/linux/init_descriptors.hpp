// The container's initial descriptor table, owned by fdcore: the init starts with exactly the descriptors
// its FilesState lists (stdio, and the preserved descriptors when asked) and nothing else of the process
// that created it.
#pragma once

#include <string>
#include <vector>

#include "fdcore/process_files.hpp"
#include "litebox/linux/error.hpp"

namespace litebox::linux_host {

// One guest number and the host descriptor that becomes it.
struct DescriptorPlacement {
  int guest = 0;
  int host = -1;
  bool cloexec = false;
};

// Builds the table in the creating process: duplicates of the caller's descriptors, in guest order (0, 1,
// 2, then the preserved ones from 3), adopted by fdcore. The caller keeps its own descriptors.
class InitDescriptors {
 public:
  // `stdio` are the host descriptors for 0, 1 and 2; `preserved` become 3, 4, ...
  static Expected<InitDescriptors> build(const std::vector<int>& stdio, const std::vector<int>& preserved);

  // The placements fdcore's table lists, in number order.
  std::vector<DescriptorPlacement> placements() const;
  const fdcore::ProcessFiles<int>& files() const { return files_; }
  fdcore::ProcessFiles<int>& files() { return files_; }

 private:
  explicit InitDescriptors(fdcore::ProcessFiles<int> files) : files_(std::move(files)) {}
  fdcore::ProcessFiles<int> files_;
};

// In the child, right before the user's program: puts each host descriptor at its guest number and closes
// every other descriptor, so the process holds exactly the table. `keep` are the runtime's own descriptors
// the child still needs until execve (sync socket, exec FIFO; -1 for none): they are placed, close-on-exec,
// right after the table and their new numbers written back. Runs after fork: no logging.
Status realize_descriptors(const std::vector<DescriptorPlacement>& placements, std::vector<int*> keep);

}  // namespace litebox::linux_host
