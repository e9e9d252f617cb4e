#include "root_setup.hpp"

#include "litebox/linux/rootfs_setup.hpp"

namespace litebox::linux_host::detail {
namespace {

RootfsSetup rootfs_setup_of(const InitPlan& plan) {
  RootfsSetup setup;
  setup.rootfs = plan.rootfs;
  setup.bundle = plan.bundle;
  setup.no_pivot = plan.no_pivot;
  setup.cgroup_mounts = plan.cgroup_mounts;
  return setup;
}

}  // namespace

Status prepare_root(const InitPlan& plan) { return prepare_rootfs(plan.spec, rootfs_setup_of(plan)); }

Status enter_root(const InitPlan& plan) { return pivot_into_rootfs(rootfs_setup_of(plan)); }

Status finish_root(const InitPlan& plan) { return finish_rootfs(plan.spec); }

}  // namespace litebox::linux_host::detail
