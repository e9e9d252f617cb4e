#include <windows.h>

#include <psapi.h>

#include "litebox/windows/job.hpp"

#include <algorithm>
#include <cerrno>

#include "litebox/windows/win_error.hpp"

namespace litebox::windows_host {
namespace {

HANDLE to_handle(RawHandle raw) { return reinterpret_cast<HANDLE>(raw); }

platform::Status set_cpu_rate(HANDLE job, const JOBOBJECT_CPU_RATE_CONTROL_INFORMATION& info) {
  auto copy = info;
  if (!SetInformationJobObject(job, JobObjectCpuRateControlInformation, &copy, sizeof copy)) {
    return last_error("set the job's CPU rate");
  }
  return {};
}

}  // namespace

platform::Expected<Job> Job::create() {
  HANDLE h = CreateJobObjectW(nullptr, nullptr);
  if (h == nullptr) return last_error("CreateJobObject");
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
  limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
  if (!SetInformationJobObject(h, JobObjectExtendedLimitInformation, &limits, sizeof limits)) {
    const DWORD err = GetLastError();
    CloseHandle(h);
    return win32_error("set the job's kill-on-close limit", err);
  }
  return Job(reinterpret_cast<RawHandle>(h));
}

Job::~Job() { close(); }
Job::Job(Job&& other) noexcept : handle_(other.handle_) { other.handle_ = 0; }
Job& Job::operator=(Job&& other) noexcept {
  if (this != &other) {
    close();
    handle_ = other.handle_;
    other.handle_ = 0;
  }
  return *this;
}

void Job::close() noexcept {
  if (handle_ != 0) CloseHandle(to_handle(handle_));
  handle_ = 0;
}

platform::Status Job::apply(const oci::WindowsResources& resources) {
  if (resources.storage) {
    return platform::Error{EINVAL, "windows.resources.storage is not supported: job-object (HostProcess-style) "
                                   "containers only: no filesystem or network isolation"};
  }
  const HANDLE job = to_handle(handle_);
  if (resources.memory && resources.memory->limit) {
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
    DWORD got = 0;
    if (!QueryInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits, &got)) {
      return last_error("query the job's limits");
    }
    limits.BasicLimitInformation.LimitFlags |= JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_JOB_MEMORY;
    limits.JobMemoryLimit = static_cast<SIZE_T>(*resources.memory->limit);
    if (!SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits)) {
      return last_error("set the job's memory limit");
    }
  }
  if (resources.cpu) {
    const auto& cpu = *resources.cpu;
    const int given = (cpu.count ? 1 : 0) + (cpu.shares ? 1 : 0) + (cpu.maximum ? 1 : 0);
    if (given > 1) {
      return platform::Error{EINVAL, "windows.resources.cpu: only one of count, shares and maximum may be set"};
    }
    JOBOBJECT_CPU_RATE_CONTROL_INFORMATION info{};
    if (cpu.maximum) {
      // Both count cycles per 10000.
      info.ControlFlags = JOB_OBJECT_CPU_RATE_CONTROL_ENABLE | JOB_OBJECT_CPU_RATE_CONTROL_HARD_CAP;
      info.CpuRate = std::clamp<DWORD>(*cpu.maximum, 1, 10000);
      return set_cpu_rate(job, info);
    }
    if (cpu.count) {
      SYSTEM_INFO si{};
      GetSystemInfo(&si);
      const std::uint64_t host = std::max<DWORD>(si.dwNumberOfProcessors, 1);
      info.ControlFlags = JOB_OBJECT_CPU_RATE_CONTROL_ENABLE | JOB_OBJECT_CPU_RATE_CONTROL_HARD_CAP;
      info.CpuRate = static_cast<DWORD>(std::clamp<std::uint64_t>(*cpu.count * 10000 / host, 1, 10000));
      return set_cpu_rate(job, info);
    }
    if (cpu.shares) {
      // shares 0..10000 onto the job weights 1..9 (5, the default weight, for the middle).
      info.ControlFlags = JOB_OBJECT_CPU_RATE_CONTROL_ENABLE | JOB_OBJECT_CPU_RATE_CONTROL_WEIGHT_BASED;
      info.Weight = std::clamp<DWORD>(1 + static_cast<DWORD>(*cpu.shares) * 8 / 10000, 1, 9);
      return set_cpu_rate(job, info);
    }
  }
  return {};
}

platform::Expected<std::vector<std::uint32_t>> Job::pids() const {
  // The list may grow between the size query and the read: retry with room for more.
  std::vector<unsigned char> buf(sizeof(JOBOBJECT_BASIC_PROCESS_ID_LIST) + 64 * sizeof(ULONG_PTR));
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto* list = reinterpret_cast<JOBOBJECT_BASIC_PROCESS_ID_LIST*>(buf.data());
    const DWORD room = static_cast<DWORD>((buf.size() - sizeof(JOBOBJECT_BASIC_PROCESS_ID_LIST)) / sizeof(ULONG_PTR) + 1);
    list->NumberOfAssignedProcesses = room;
    if (QueryInformationJobObject(to_handle(handle_), JobObjectBasicProcessIdList, list,
                                  static_cast<DWORD>(buf.size()), nullptr)) {
      std::vector<std::uint32_t> out;
      for (DWORD i = 0; i < list->NumberOfProcessIdsInList; ++i) {
        out.push_back(static_cast<std::uint32_t>(list->ProcessIdList[i]));
      }
      return out;
    }
    const DWORD err = GetLastError();
    if (err != ERROR_MORE_DATA) return win32_error("list the job's processes", err);
    buf.resize(buf.size() * 2 + list->NumberOfAssignedProcesses * sizeof(ULONG_PTR));
  }
  return platform::Error{EAGAIN, "list the job's processes: the job keeps growing"};
}

platform::Expected<JobAccounting> Job::accounting() const {
  JOBOBJECT_BASIC_AND_IO_ACCOUNTING_INFORMATION acct{};
  if (!QueryInformationJobObject(to_handle(handle_), JobObjectBasicAndIoAccountingInformation, &acct, sizeof acct,
                                 nullptr)) {
    // wine 8 has only the basic class (ERROR_INVALID_FUNCTION for the I/O one): the I/O counts stay 0 there.
    if (!QueryInformationJobObject(to_handle(handle_), JobObjectBasicAccountingInformation, &acct.BasicInfo,
                                   sizeof acct.BasicInfo, nullptr)) {
      return last_error("query the job's accounting");
    }
  }
  JobAccounting out;
  out.user_100ns = static_cast<std::uint64_t>(acct.BasicInfo.TotalUserTime.QuadPart);
  out.kernel_100ns = static_cast<std::uint64_t>(acct.BasicInfo.TotalKernelTime.QuadPart);
  out.read_operations = acct.IoInfo.ReadOperationCount;
  out.read_bytes = acct.IoInfo.ReadTransferCount;
  out.write_operations = acct.IoInfo.WriteOperationCount;
  out.write_bytes = acct.IoInfo.WriteTransferCount;
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
  if (QueryInformationJobObject(to_handle(handle_), JobObjectExtendedLimitInformation, &limits, sizeof limits,
                                nullptr)) {
    out.peak_job_memory = limits.PeakJobMemoryUsed;
  }
  // The live processes' memory: a job has no "current commit" query before Windows 10 1607
  // (JobObjectMemoryUsageInformation) and wine has none, so the processes are summed.
  if (auto pids = this->pids()) {
    for (std::uint32_t pid : pids.value()) {
      HANDLE p = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
      if (p == nullptr) continue;
      PROCESS_MEMORY_COUNTERS_EX counters{};
      counters.cb = sizeof counters;
      if (K32GetProcessMemoryInfo(p, reinterpret_cast<PROCESS_MEMORY_COUNTERS*>(&counters), sizeof counters)) {
        out.commit_bytes += counters.PrivateUsage;
        out.working_set_bytes += counters.WorkingSetSize;
      }
      CloseHandle(p);
    }
  }
  return out;
}

platform::Status Job::terminate(std::uint32_t exit_code) {
  if (!TerminateJobObject(to_handle(handle_), exit_code)) return last_error("TerminateJobObject");
  return {};
}

bool Job::contains(RawHandle process) const {
  BOOL in = FALSE;
  return IsProcessInJob(to_handle(process), to_handle(handle_), &in) && in;
}

}  // namespace litebox::windows_host
