// The spec's `process.capabilities`: the five sets, from "CAP_*" names (translated in the parent) to the
// container process's state (applied in the child, in runc's order: bounding set before the user switch,
// the other sets after it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "litebox/linux/error.hpp"
#include "oci/process.hpp"

namespace litebox::linux_host {

// A capability set: bit N stands for capability number N (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40).
using CapabilityMask = std::uint64_t;

// The number of a "CAP_*" name, if it is one this runtime knows (CAP_CHOWN .. CAP_CHECKPOINT_RESTORE).
std::optional<int> capability_number(std::string_view name);
// The "CAP_*" name of a number; empty when unknown.
std::string_view capability_name(int number);

// The running kernel's highest capability number (/proc/sys/kernel/cap_last_cap).
Expected<int> read_cap_last_cap();

// The five sets, ready for the child.
struct CapabilityPlan {
  CapabilityMask bounding = 0;
  CapabilityMask effective = 0;
  CapabilityMask permitted = 0;
  CapabilityMask inheritable = 0;
  CapabilityMask ambient = 0;
  int last_cap = 0;                // the kernel's CAP_LAST_CAP: the bounding set is dropped up to it
  std::vector<std::string> notes;  // what was skipped, for the parent's log
};

// Parent side. An unknown name is an error (`unknown capability "CAP_FOO"`); a known capability above the
// kernel's `last_cap` is skipped with a note, as runc does. An effective capability that is not permitted is
// an error (capset would refuse it); an ambient one not both permitted and inheritable is skipped with a note
// (the kernel cannot raise it; runc carries on without it). Without a `capabilities` section every set is
// empty: the process keeps no capability (runc's behaviour).
Expected<CapabilityPlan> make_capability_plan(const std::optional<oci::Capabilities>& capabilities, int last_cap);

// ---- Child side (after fork; no logging, no locks) ----

// Drops from the bounding set every capability (up to last_cap) the plan does not list (PR_CAPBSET_DROP).
// Needs CAP_SETPCAP in the effective set: call it before the user switch.
Status drop_bounding_set(const CapabilityPlan& plan);

// PR_SET_KEEPCAPS: with it the permitted set survives the switch away from uid 0.
Status set_keep_capabilities(bool keep);

// capset(2) of the effective, permitted and inheritable sets (_LINUX_CAPABILITY_VERSION_3), then the ambient
// set: cleared, then each listed capability raised. Call it after the user switch.
Status apply_capability_sets(const CapabilityPlan& plan);

}  // namespace litebox::linux_host
