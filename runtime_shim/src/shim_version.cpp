#include "shim_version.hpp"

#ifndef LITEBOX_VERSION
#define LITEBOX_VERSION "0.1.0"
#endif
#ifndef LITEBOX_REVISION
#define LITEBOX_REVISION "unknown"
#endif

namespace litebox::shim {

const char* shim_version() { return LITEBOX_VERSION; }
const char* shim_revision() { return LITEBOX_REVISION; }

}  // namespace litebox::shim
