# LITEBOX_STATIC_SHIM: the executables (containerd-shim-litebox-v1, litebox-ctl, litebox-runtime) carry their
# C++ libraries instead of mapping them as shared objects, and the shim's code is built for size. A shim runs
# per container, and its RSS is, to within a few percent, the text it maps: a text page is mapped with its
# 64 KiB neighbourhood (the kernel's fault-around) once anything near it runs, so a shared libstdc++ (2 MiB),
# protobuf-lite or spdlog counts almost in full in every shim. Linked in, only the code the shim calls is
# there, in one file whose pages every shim shares through the page cache. glibc stays dynamic (NSS, dlopen
# of the gRPC module). Included before any find_package of these libraries, so that every target (the tests
# too) is built and linked against the same copies the shim is.
#
#  - protobuf-lite, Boost.JSON (with Boost.Container) and libseccomp: the static archives Debian ships
#    (libprotobuf-dev, libboost-json1.81-dev, libseccomp-dev).
#  - spdlog and fmt: Debian ships no archive of either, so both are header-only (spdlog's implementation
#    inline, FMT_HEADER_ONLY; Debian's spdlog always uses the external fmt), as the mingw build has them.
#  - libstdc++ and libgcc: -static-libstdc++ -static-libgcc on the three executables alone (litebox_static_executable
#    below). The tests and the gRPC module keep the shared libstdc++: grpc++ links it, and a second copy
#    loaded next to a static one is only safe where nothing but the module's C ABI crosses between them.
#  - Size: the libraries the shim links (litebox_size_optimized, called at the top level) are compiled with
#    -Os and a section per function and object, which the executables' link collects (--gc-sections); their
#    relative relocations are packed (-z pack-relative-relocs, DT_RELR: glibc 2.36), so the dynamic loader
#    reads 1.5 KiB of them at start instead of 144. fdcore keeps the build type's optimization (-O3 in
#    Release): its cost per call is what the fdcore benchmark measures, and it is under 20 KiB of code.
#    VmRSS of a shim server serving a `sleep` container (Release, one session; the README's Benchmarks have
#    the figures against runc's shim): shared libraries 8.6 MB, static at -O3 6.8 MB, with --gc-sections
#    5.9 MB, -Os 4.9 MB, without libm and with packed relocations 4.2 MB.
#
# The gRPC module is dlopen'ed by the shim (RTLD_LOCAL) and brings grpc++, libstdc++.so and its own
# header-only spdlog (hidden: the module exports its entry point only). The shim's executable exports none
# of the copies it carries, so nothing binds across; what crosses is the module's C ABI, the registry
# (std::map, std::function: inline templates of one compiler) and the log callback by which the module's
# lines reach the shim's logger (runtime_shim/src/grpc/grpc_module_api.hpp).

find_package(Threads REQUIRED)

# spdlog::spdlog and spdlog::spdlog_header_only as header-only targets: Debian's spdlogConfig.cmake, found
# later by the subdirectories, sees both defined and leaves them as they are.
find_path(LITEBOX_SPDLOG_INCLUDE_DIR spdlog/spdlog.h REQUIRED DOC "spdlog's headers (libspdlog-dev)")
find_path(LITEBOX_FMT_INCLUDE_DIR fmt/format.h REQUIRED DOC "fmt's headers (libfmt-dev)")
add_library(litebox_spdlog_header_only INTERFACE)
target_include_directories(litebox_spdlog_header_only SYSTEM INTERFACE ${LITEBOX_SPDLOG_INCLUDE_DIR} ${LITEBOX_FMT_INCLUDE_DIR})
# FMT_USE_LONG_DOUBLE=0: fmt's long double formatting calls ceil(), which alone links libm (300 KB more RSS
# per shim); nothing here formats a long double (with it off, one would print as nothing).
target_compile_definitions(litebox_spdlog_header_only INTERFACE SPDLOG_FMT_EXTERNAL FMT_HEADER_ONLY FMT_USE_LONG_DOUBLE=0)
target_link_libraries(litebox_spdlog_header_only INTERFACE Threads::Threads)
add_library(spdlog::spdlog ALIAS litebox_spdlog_header_only)
add_library(spdlog::spdlog_header_only ALIAS litebox_spdlog_header_only)

# protobuf-lite: FindProtobuf takes Protobuf_LITE_LIBRARIES as found (and the full libprotobuf, which only
# grpc++'s targets name, stays shared). The per-configuration names shadow what an earlier configure cached.
find_library(LITEBOX_PROTOBUF_LITE_ARCHIVE NAMES libprotobuf-lite.a REQUIRED
             DOC "protobuf-lite's static archive (libprotobuf-dev)")
foreach(suffix "" _RELEASE _DEBUG)
  set(Protobuf_LITE_LIBRARY${suffix} ${LITEBOX_PROTOBUF_LITE_ARCHIVE})
endforeach()
set(Protobuf_LITE_LIBRARIES ${LITEBOX_PROTOBUF_LITE_ARCHIVE} Threads::Threads)

# Boost.JSON: Boost's own CMake package picks libboost_json.a (and libboost_container.a).
set(Boost_USE_STATIC_LIBS ON)

# libseccomp: platforms/linux links this instead of pkg-config's shared library.
find_library(LITEBOX_SECCOMP_ARCHIVE NAMES libseccomp.a REQUIRED DOC "libseccomp's static archive (libseccomp-dev)")

include(CheckLinkerFlag)
check_linker_flag(CXX "-Wl,-z,pack-relative-relocs" LITEBOX_LINKER_PACKS_RELATIVE_RELOCS)
set(litebox_static_link_options -static-libstdc++ -static-libgcc -Wl,--gc-sections)
if(LITEBOX_LINKER_PACKS_RELATIVE_RELOCS)
  list(APPEND litebox_static_link_options -Wl,-z,pack-relative-relocs)
endif()

# -Os and sections to collect, in the optimized builds (Release, RelWithDebInfo: the ci preset tests this code).
function(litebox_size_optimized)
  foreach(target ${ARGN})
    target_compile_options(${target} PRIVATE
                           $<$<CONFIG:Release,RelWithDebInfo,MinSizeRel>:-Os -ffunction-sections -fdata-sections>)
  endforeach()
endfunction()

# The executables themselves: libstdc++ and libgcc linked in, unused sections dropped, relocations packed.
function(litebox_static_executable target)
  target_link_options(${target} PRIVATE ${litebox_static_link_options})
  litebox_size_optimized(${target})
endfunction()
