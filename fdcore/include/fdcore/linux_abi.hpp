// The Linux ABI numbers the descriptor calls take and return (x86_64 / generic values), spelled out here
// because fdcore's interface includes no OS header. The Linux platform checks them against <fcntl.h> with
// static_asserts; other hosts translate to them.
#pragma once

#include <cstdint>

namespace fdcore::abi {

// open(2) flags (asm-generic/fcntl.h, octal as the kernel writes them).
inline constexpr std::uint32_t o_rdonly = 00;
inline constexpr std::uint32_t o_wronly = 01;
inline constexpr std::uint32_t o_rdwr = 02;
inline constexpr std::uint32_t o_accmode = 03;
inline constexpr std::uint32_t o_creat = 0100;
inline constexpr std::uint32_t o_excl = 0200;
inline constexpr std::uint32_t o_noctty = 0400;
inline constexpr std::uint32_t o_trunc = 01000;
inline constexpr std::uint32_t o_append = 02000;
inline constexpr std::uint32_t o_nonblock = 04000;
inline constexpr std::uint32_t o_dsync = 010000;
inline constexpr std::uint32_t o_async = 020000;  // FASYNC
inline constexpr std::uint32_t o_direct = 040000;
inline constexpr std::uint32_t o_largefile = 0100000;
inline constexpr std::uint32_t o_directory = 0200000;
inline constexpr std::uint32_t o_nofollow = 0400000;
inline constexpr std::uint32_t o_noatime = 01000000;
inline constexpr std::uint32_t o_cloexec = 02000000;
inline constexpr std::uint32_t o_sync = 04010000;
inline constexpr std::uint32_t o_path = 010000000;
inline constexpr std::uint32_t o_tmpfile = 020200000;

// The status flags F_SETFL changes (fs/fcntl.c SETFL_MASK); every other bit of its argument is ignored, except
// O_ASYNC, which the object's own fasync operation sets (pipes, sockets, ttys) and Linux ignores elsewhere.
inline constexpr std::uint32_t setfl_mask = o_append | o_nonblock | o_direct | o_noatime;
// Flags open(2) uses and then forgets: F_GETFL never shows them (fs/open.c do_dentry_open).
inline constexpr std::uint32_t open_only_flags = o_creat | o_excl | o_noctty | o_trunc | o_cloexec;

// fcntl(2) commands the descriptor table answers.
inline constexpr std::uint32_t f_dupfd = 0;
inline constexpr std::uint32_t f_getfd = 1;
inline constexpr std::uint32_t f_setfd = 2;
inline constexpr std::uint32_t f_getfl = 3;
inline constexpr std::uint32_t f_setfl = 4;
inline constexpr std::uint32_t f_dupfd_cloexec = 1030;
inline constexpr std::uint32_t fd_cloexec = 1;

// close_range(2) flags (linux/close_range.h).
inline constexpr std::uint32_t close_range_unshare = 1u << 1;
inline constexpr std::uint32_t close_range_cloexec = 1u << 2;

// fs.nr_open's default: the ceiling of RLIMIT_NOFILE and of any descriptor number.
inline constexpr std::uint32_t nr_open_default = 1u << 20;

}  // namespace fdcore::abi
