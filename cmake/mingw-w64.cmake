# Cross-compiling for 64-bit Windows with Debian's mingw-w64 (the -posix variant: the -win32 one lacks
# std::thread and std::shared_mutex). Tests run under wine (CMAKE_CROSSCOMPILING_EMULATOR), so ctest drives
# the .exe files like native ones. Facts: ../shared/windows-toolchain.md.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Windows 10 declarations (HPCON, CreatePseudoConsole).
add_compile_definitions(_WIN32_WINNT=0x0A00 NTDDI_VERSION=0x0A000006 WIN32_LEAN_AND_MEAN NOMINMAX UNICODE _UNICODE)
# Static: a dynamic build needs libstdc++-6.dll, libgcc_s_seh-1.dll and libwinpthread-1.dll beside the .exe.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
# tests/scripts/wine-run.sh: wine with the build tree's own prefix, quiet.
set(CMAKE_CROSSCOMPILING_EMULATOR ${CMAKE_CURRENT_LIST_DIR}/../tests/scripts/wine-run.sh)
