// Include last in a file that calls the messages' stdin()/stdout()/stderr() accessors: mingw's <stdio.h>
// makes those names macros (the generated headers push and pop them around their own declarations).
#pragma once

#include <cstdio>

#ifdef _WIN32
#undef stdin
#undef stdout
#undef stderr
#endif
