// Reading and writing a stopped guest's memory (process_vm_readv/writev, /proc/<pid>/mem as the fallback).
// What is read may be changed by the guest's other threads at any time: the core copies once, then checks
// the notification is still valid (notification_valid) before acting on it.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fdcore/errno.hpp"

namespace litebox::linux_host::core {

// Copies `size` bytes from the guest's `address`. 0, or -errno (-EFAULT: not mapped).
int read_guest(pid_t pid, std::uint64_t address, void* out, std::size_t size) noexcept;

// A NUL-terminated string of at most `max` bytes, its NUL included (PATH_MAX for paths, as the kernel counts);
// `out` gets it without the NUL. Reads page by page, so a string that ends right before an unmapped page is
// read. -EFAULT: unmapped or null; -ENAMETOOLONG: no NUL within `max`.
int read_guest_string(pid_t pid, std::uint64_t address, std::size_t max, std::string& out) noexcept;

// Copies `size` bytes to the guest's `address`. 0, or -errno.
int write_guest(pid_t pid, std::uint64_t address, const void* data, std::size_t size) noexcept;

// The two reads through `mem`, an open /proc/<tid>/mem: bound to the address space it was opened for, so no
// other process that reuses the guest's number can be read by mistake. -EFAULT for an unmapped page; -ESRCH
// once that address space is gone (the guest exec'd or exited: open it again for the new one).
int read_guest_at(int mem, std::uint64_t address, void* out, std::size_t size) noexcept;
int read_guest_string_at(int mem, std::uint64_t address, std::size_t max, std::string& out) noexcept;

namespace detail {
// The fallback the three above take when process_vm_readv/writev fail with EPERM or ENOSYS: pread/pwrite on
// /proc/<pid>/mem (-EFAULT for an unmapped page, -ESRCH once the guest is gone). Unlike process_vm_writev,
// it can write into a read-only private mapping (the kernel forces the write, as for a debugger). Exposed for
// tests.
int proc_mem_read(pid_t pid, std::uint64_t address, void* out, std::size_t size) noexcept;
int proc_mem_write(pid_t pid, std::uint64_t address, const void* data, std::size_t size) noexcept;
}  // namespace detail

}  // namespace litebox::linux_host::core
