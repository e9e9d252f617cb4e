// Which containerd started us, for the one answer that depends on it: over gRPC, containerd 1.7 accepts only
// the JSON bootstrap `{"version":2,...}` and 2.0-2.2 only version 3, and both send the same arguments,
// environment and stdin. Their binaries tell them apart (`containerd --version` names the module,
// github.com/containerd/containerd or .../v2). containerd 2.3+ is known without this: it writes BootstrapParams.
#pragma once

#include <string>

namespace litebox::shim {

// The major version of the containerd binary at `path` (1 or 2), from its --version (at most 5 s); 0 when it
// cannot be told.
int containerd_major_version(const std::string& path);

}  // namespace litebox::shim
