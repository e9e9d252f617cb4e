// The Linux platform's errors are the platform interface's (litebox/platform/error.hpp).
#pragma once

#include "litebox/platform/error.hpp"

namespace litebox::linux_host {

using platform::Error;
template <typename T = std::monostate>
using Expected = platform::Expected<T>;
using Status = platform::Status;

}  // namespace litebox::linux_host
