// Race windows: the points in the lock-free paths where another thread's change would matter (between a
// reader's first load and its checks, between a check and the compare-and-swap it guards). They are empty in
// every real build. The stress tests link a build of fdcore with FDCORE_RACE_WINDOWS, where each point
// sometimes yields the CPU. Without that, a wrong design there shows only when a timer interrupt lands
// within those few instructions, which a test run almost never sees.
#pragma once

#if defined(FDCORE_RACE_WINDOWS)
namespace fdcore::testing {
void race_window() noexcept;
}  // namespace fdcore::testing
#define FDCORE_RACE_WINDOW() ::fdcore::testing::race_window()
#else
#define FDCORE_RACE_WINDOW() static_cast<void>(0)
#endif
