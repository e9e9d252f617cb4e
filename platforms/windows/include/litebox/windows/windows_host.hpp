// The Windows host behind litebox::platform::Host: job-object (HostProcess-style) containers whose
// descriptor tables are fdcore tables of HANDLEs. No filesystem or network isolation: a container's root
// is its bundle's rootfs folder, its processes run on the host's Windows. Specs asking for more (Hyper-V
// isolation, HCS layers, an HNS network, devices, a credential spec) are refused with EINVAL.
//
// Exit statuses: a process's own exit code; one ended by signal()/signal_all() (SIGKILL, SIGTERM, SIGINT:
// Windows has no signals, so each is TerminateProcess/TerminateJobObject) exits with 128 + the signal
// (137 for SIGKILL), which is what containerd's Linux shims report and what users' scripts test for;
// hcsshim reports 1 for a terminated container, which says nothing about how it ended.
#pragma once

#include <memory>

#include "litebox/platform/host.hpp"

namespace litebox::windows_host {

inline constexpr const char* kJobOnly =
    "job-object (HostProcess-style) containers only: no filesystem or network isolation";

std::unique_ptr<platform::Host> make_host();

}  // namespace litebox::windows_host
