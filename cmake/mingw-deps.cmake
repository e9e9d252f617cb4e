# The mingw build's third-party parts, from Debian's own packages: header-only Boost.JSON, spdlog and fmt
# reached through a folder of links to just those headers (never /usr/include itself: it brings glibc's),
# GoogleTest built from /usr/src/googletest, protobuf-lite built from Debian's protobuf source package by
# tests/scripts/mingw-protobuf.sh (LITEBOX_MINGW_PROTOBUF: its install prefix).
set(litebox_mingw_headers ${CMAKE_BINARY_DIR}/mingw-headers)
file(MAKE_DIRECTORY ${litebox_mingw_headers})
foreach(dir boost fmt spdlog)
  if(NOT EXISTS ${litebox_mingw_headers}/${dir})
    file(CREATE_LINK /usr/include/${dir} ${litebox_mingw_headers}/${dir} SYMBOLIC)
  endif()
endforeach()

# Boost.JSON's sources in one translation unit of their own (~25 s to compile).
add_library(litebox_boost_json STATIC ${CMAKE_CURRENT_LIST_DIR}/boost_json_src.cpp)
target_include_directories(litebox_boost_json SYSTEM PUBLIC ${litebox_mingw_headers})
add_library(Boost::json ALIAS litebox_boost_json)

add_library(litebox_spdlog INTERFACE)
target_include_directories(litebox_spdlog SYSTEM INTERFACE ${litebox_mingw_headers})
target_compile_definitions(litebox_spdlog INTERFACE SPDLOG_FMT_EXTERNAL FMT_HEADER_ONLY)
add_library(spdlog::spdlog ALIAS litebox_spdlog)

if(LITEBOX_BUILD_TESTS)
  set(gtest_disable_pthreads ON CACHE BOOL "" FORCE)
  set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
  set(BUILD_GMOCK OFF CACHE BOOL "" FORCE)
  add_subdirectory(/usr/src/googletest ${CMAKE_BINARY_DIR}/googletest EXCLUDE_FROM_ALL SYSTEM)  # GTest::gtest, GTest::gtest_main
endif()

# protobuf-lite: Debian has no mingw build of it, so tests/scripts/mingw-protobuf.sh builds a static
# libprotobuf-lite from Debian's protobuf source package, at the version of the native libprotobuf-dev and
# protoc, which generates the messages (Debian's /usr/bin/protoc: a build tool, it runs here). The default
# prefix, build/mingw-deps/protobuf-<version>, is beside the build tree so that it survives a wipe of
# build/mingw (its cache of sources and objects is build/mingw-deps/protobuf-src). runtime_shim skips
# find_package(Protobuf) under WIN32: what it needs is defined here.
find_program(Protobuf_PROTOC_EXECUTABLE NAMES protoc HINTS /usr/bin REQUIRED
             DOC "Debian's native protoc (protobuf-compiler); generates the messages of the mingw build")
execute_process(COMMAND ${Protobuf_PROTOC_EXECUTABLE} --version OUTPUT_VARIABLE litebox_protoc_version
                OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
string(REGEX REPLACE "^libprotoc " "" litebox_protoc_version "${litebox_protoc_version}")
set(LITEBOX_MINGW_PROTOBUF ${CMAKE_BINARY_DIR}/../mingw-deps/protobuf-${litebox_protoc_version} CACHE PATH
    "Prefix of the mingw protobuf-lite (built there by tests/scripts/mingw-protobuf.sh when it lacks the library)")
get_filename_component(litebox_pb ${LITEBOX_MINGW_PROTOBUF} ABSOLUTE)
set(litebox_pb_stamp ${litebox_pb}/litebox-protobuf.version)
# The script's own prefix (with its stamp) is handed to it at every configure: it returns at once unless
# Debian's protobuf version changed. A prefix without the stamp is someone else's, used as it is.
if(NOT EXISTS ${litebox_pb}/lib/libprotobuf-lite.a OR EXISTS ${litebox_pb_stamp})
  if(NOT EXISTS ${litebox_pb}/lib/libprotobuf-lite.a)
    message(STATUS "protobuf-lite for mingw: building it into ${litebox_pb} (about a minute, once; log: ${litebox_pb}.log)")
  endif()
  file(MAKE_DIRECTORY ${litebox_pb}/..)
  execute_process(COMMAND ${CMAKE_CURRENT_LIST_DIR}/../tests/scripts/mingw-protobuf.sh ${litebox_pb}
                  RESULT_VARIABLE litebox_pb_result OUTPUT_FILE ${litebox_pb}.log ERROR_FILE ${litebox_pb}.log)
  if(NOT litebox_pb_result EQUAL 0)
    file(STRINGS ${litebox_pb}.log litebox_pb_log ENCODING UTF-8)
    list(LENGTH litebox_pb_log litebox_pb_lines)
    math(EXPR litebox_pb_first "${litebox_pb_lines} - 20")
    if(litebox_pb_first LESS 0)
      set(litebox_pb_first 0)
    endif()
    list(SUBLIST litebox_pb_log ${litebox_pb_first} -1 litebox_pb_log)
    list(JOIN litebox_pb_log "\n" litebox_pb_log)
    message(FATAL_ERROR "tests/scripts/mingw-protobuf.sh ${litebox_pb} failed (${litebox_pb_result}): protobuf-lite "
                        "for mingw could not be built. Its log, ${litebox_pb}.log, ends:\n${litebox_pb_log}")
  endif()
endif()
if(NOT EXISTS ${litebox_pb}/lib/libprotobuf-lite.a OR NOT EXISTS ${litebox_pb}/include/google/protobuf/message_lite.h)
  message(FATAL_ERROR "LITEBOX_MINGW_PROTOBUF=${litebox_pb} has no lib/libprotobuf-lite.a or include/google/protobuf")
endif()
# GOOGLE_PROTOBUF_VERSION 3021012 is 3.21.12.
file(STRINGS ${litebox_pb}/include/google/protobuf/stubs/common.h litebox_pb_version
     REGEX "^#define GOOGLE_PROTOBUF_VERSION [0-9]+")
string(REGEX REPLACE "[^0-9]*([0-9]+)$" "\\1" litebox_pb_version "${litebox_pb_version}")
math(EXPR litebox_pb_major "${litebox_pb_version} / 1000000")
math(EXPR litebox_pb_minor "${litebox_pb_version} / 1000 % 1000")
math(EXPR litebox_pb_patch "${litebox_pb_version} % 1000")
set(litebox_pb_version "${litebox_pb_major}.${litebox_pb_minor}.${litebox_pb_patch}")
if(NOT litebox_pb_version VERSION_EQUAL litebox_protoc_version)
  message(FATAL_ERROR "protobuf-lite ${litebox_pb_version} in ${litebox_pb} does not match protoc ${litebox_protoc_version} "
                      "(${Protobuf_PROTOC_EXECUTABLE}): the generated code needs the same version")
endif()
message(STATUS "protobuf-lite for mingw: ${litebox_pb_version} in ${litebox_pb}, protoc ${Protobuf_PROTOC_EXECUTABLE}")

add_library(protobuf::libprotobuf-lite STATIC IMPORTED GLOBAL)
set_target_properties(protobuf::libprotobuf-lite PROPERTIES IMPORTED_LOCATION ${litebox_pb}/lib/libprotobuf-lite.a
                      INTERFACE_INCLUDE_DIRECTORIES ${litebox_pb}/include
                      INTERFACE_SYSTEM_INCLUDE_DIRECTORIES ${litebox_pb}/include)
add_executable(protobuf::protoc IMPORTED GLOBAL)
set_target_properties(protobuf::protoc PROPERTIES IMPORTED_LOCATION ${Protobuf_PROTOC_EXECUTABLE})
# protobuf_generate() as the native build has it: CMake's FindProtobuf, which (the targets above existing
# already) only defines it and the Protobuf_* variables. Quiet: it reports the full libprotobuf missing.
set(Protobuf_INCLUDE_DIR ${litebox_pb}/include)
set(Protobuf_LITE_LIBRARY ${litebox_pb}/lib/libprotobuf-lite.a)
set(Protobuf_FIND_QUIETLY TRUE)
include(FindProtobuf)
unset(Protobuf_FIND_QUIETLY)
