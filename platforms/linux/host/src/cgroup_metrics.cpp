#include "litebox/linux/host/cgroup_metrics.hpp"

#include <cstdint>
#include <string>

#include "cgroups_v1_metrics.pb.h"
#include "cgroups_v2_metrics.pb.h"

namespace litebox::linux_host {
namespace {

std::uint64_t stat_or(const linux_host::CgroupMemoryStats& m, const std::string& key, std::uint64_t fallback = 0) {
  auto it = m.stat.find(key);
  return it == m.stat.end() ? fallback : it->second;
}

// containerd reports "no limit" as the kernel's own number (v1: a page-aligned INT64_MAX, v2: "max" as
// the maximum); ours is UINT64_MAX, which the clients print as is: pass it through.
platform::EncodedMetrics v1_metrics(const linux_host::CgroupStats& s) {
  io::containerd::cgroups::v1::Metrics out;
  auto* pids = out.mutable_pids();
  pids->set_current(s.pids.current);
  pids->set_limit(s.pids.limit == linux_host::kCgroupUnlimited ? 0 : s.pids.limit);

  auto* usage = out.mutable_cpu()->mutable_usage();
  usage->set_total(s.cpu.usage_total_ns);
  usage->set_kernel(s.cpu.usage_system_ns);
  usage->set_user(s.cpu.usage_user_ns);
  for (auto v : s.cpu.usage_per_cpu_ns) usage->add_per_cpu(v);
  auto* throttling = out.mutable_cpu()->mutable_throttling();
  throttling->set_periods(s.cpu.periods);
  throttling->set_throttled_periods(s.cpu.throttled_periods);
  throttling->set_throttled_time(s.cpu.throttled_time_ns);

  const auto& m = s.memory;
  auto* mem = out.mutable_memory();
  mem->set_cache(stat_or(m, "cache", m.cache));
  mem->set_rss(stat_or(m, "rss", m.rss));
  mem->set_rss_huge(stat_or(m, "rss_huge"));
  mem->set_mapped_file(stat_or(m, "mapped_file"));
  mem->set_dirty(stat_or(m, "dirty"));
  mem->set_writeback(stat_or(m, "writeback"));
  mem->set_pg_pg_in(stat_or(m, "pgpgin"));
  mem->set_pg_pg_out(stat_or(m, "pgpgout"));
  mem->set_pg_fault(stat_or(m, "pgfault"));
  mem->set_pg_maj_fault(stat_or(m, "pgmajfault"));
  mem->set_inactive_anon(stat_or(m, "inactive_anon"));
  mem->set_active_anon(stat_or(m, "active_anon"));
  mem->set_inactive_file(stat_or(m, "inactive_file"));
  mem->set_active_file(stat_or(m, "active_file"));
  mem->set_unevictable(stat_or(m, "unevictable"));
  mem->set_hierarchical_memory_limit(stat_or(m, "hierarchical_memory_limit", m.limit));
  mem->set_hierarchical_swap_limit(stat_or(m, "hierarchical_memsw_limit", m.swap_limit));
  mem->set_total_cache(stat_or(m, "total_cache", m.cache));
  mem->set_total_rss(stat_or(m, "total_rss", m.rss));
  mem->set_total_rss_huge(stat_or(m, "total_rss_huge"));
  mem->set_total_mapped_file(stat_or(m, "total_mapped_file"));
  mem->set_total_dirty(stat_or(m, "total_dirty"));
  mem->set_total_writeback(stat_or(m, "total_writeback"));
  mem->set_total_pg_pg_in(stat_or(m, "total_pgpgin"));
  mem->set_total_pg_pg_out(stat_or(m, "total_pgpgout"));
  mem->set_total_pg_fault(stat_or(m, "total_pgfault"));
  mem->set_total_pg_maj_fault(stat_or(m, "total_pgmajfault"));
  mem->set_total_inactive_anon(stat_or(m, "total_inactive_anon"));
  mem->set_total_active_anon(stat_or(m, "total_active_anon"));
  mem->set_total_inactive_file(stat_or(m, "total_inactive_file"));
  mem->set_total_active_file(stat_or(m, "total_active_file"));
  mem->set_total_unevictable(stat_or(m, "total_unevictable"));
  auto* entry = mem->mutable_usage();
  entry->set_usage(m.usage);
  entry->set_max(m.max_usage);
  entry->set_limit(m.limit);
  entry->set_failcnt(m.failcnt);
  auto* kernel = mem->mutable_kernel();
  kernel->set_usage(m.kernel_usage);
  kernel->set_max(m.kernel_max_usage);
  kernel->set_limit(m.kernel_limit);
  kernel->set_failcnt(m.kernel_failcnt);
  auto* swap = mem->mutable_swap();
  swap->set_usage(m.usage + m.swap_usage);  // v1 memsw counts memory and swap together
  swap->set_limit(m.swap_limit);
  out.mutable_memory_oom_control()->set_oom_kill(m.oom_kill_count);

  platform::EncodedMetrics any;
  any.type_url = "io.containerd.cgroups.v1.Metrics";
  out.SerializeToString(&any.value);
  return any;
}

platform::EncodedMetrics v2_metrics(const linux_host::CgroupStats& s) {
  io::containerd::cgroups::v2::Metrics out;
  out.mutable_pids()->set_current(s.pids.current);
  out.mutable_pids()->set_limit(s.pids.limit == linux_host::kCgroupUnlimited ? 0 : s.pids.limit);
  auto* cpu = out.mutable_cpu();
  cpu->set_usage_usec(s.cpu.usage_total_ns / 1000);
  cpu->set_user_usec(s.cpu.usage_user_ns / 1000);
  cpu->set_system_usec(s.cpu.usage_system_ns / 1000);
  cpu->set_nr_periods(s.cpu.periods);
  cpu->set_nr_throttled(s.cpu.throttled_periods);
  cpu->set_throttled_usec(s.cpu.throttled_time_ns / 1000);
  const auto& m = s.memory;
  auto* mem = out.mutable_memory();
  mem->set_anon(stat_or(m, "anon", m.rss));
  mem->set_file(stat_or(m, "file", m.cache));
  mem->set_kernel_stack(stat_or(m, "kernel_stack"));
  mem->set_slab(stat_or(m, "slab"));
  mem->set_sock(stat_or(m, "sock"));
  mem->set_shmem(stat_or(m, "shmem"));
  mem->set_file_mapped(stat_or(m, "file_mapped"));
  mem->set_file_dirty(stat_or(m, "file_dirty"));
  mem->set_file_writeback(stat_or(m, "file_writeback"));
  mem->set_anon_thp(stat_or(m, "anon_thp"));
  mem->set_inactive_anon(stat_or(m, "inactive_anon"));
  mem->set_active_anon(stat_or(m, "active_anon"));
  mem->set_inactive_file(stat_or(m, "inactive_file"));
  mem->set_active_file(stat_or(m, "active_file"));
  mem->set_unevictable(stat_or(m, "unevictable"));
  mem->set_slab_reclaimable(stat_or(m, "slab_reclaimable"));
  mem->set_slab_unreclaimable(stat_or(m, "slab_unreclaimable"));
  mem->set_pgfault(stat_or(m, "pgfault"));
  mem->set_pgmajfault(stat_or(m, "pgmajfault"));
  mem->set_workingset_refault(stat_or(m, "workingset_refault"));
  mem->set_workingset_activate(stat_or(m, "workingset_activate"));
  mem->set_workingset_nodereclaim(stat_or(m, "workingset_nodereclaim"));
  mem->set_pgrefill(stat_or(m, "pgrefill"));
  mem->set_pgscan(stat_or(m, "pgscan"));
  mem->set_pgsteal(stat_or(m, "pgsteal"));
  mem->set_pgactivate(stat_or(m, "pgactivate"));
  mem->set_pgdeactivate(stat_or(m, "pgdeactivate"));
  mem->set_pglazyfree(stat_or(m, "pglazyfree"));
  mem->set_pglazyfreed(stat_or(m, "pglazyfreed"));
  mem->set_thp_fault_alloc(stat_or(m, "thp_fault_alloc"));
  mem->set_thp_collapse_alloc(stat_or(m, "thp_collapse_alloc"));
  mem->set_usage(m.usage);
  mem->set_usage_limit(m.limit);
  mem->set_swap_usage(m.swap_usage);
  mem->set_swap_limit(m.swap_limit);
  auto* events = out.mutable_memory_events();
  events->set_max(m.failcnt);
  events->set_oom(m.oom_events);
  events->set_oom_kill(m.oom_kill_count);

  platform::EncodedMetrics any;
  any.type_url = "io.containerd.cgroups.v2.Metrics";
  out.SerializeToString(&any.value);
  return any;
}

}  // namespace

platform::EncodedMetrics encode_metrics(const CgroupStats& stats, CgroupMode mode) {
  return mode == linux_host::CgroupMode::v2 ? v2_metrics(stats) : v1_metrics(stats);
}

}  // namespace litebox::linux_host
