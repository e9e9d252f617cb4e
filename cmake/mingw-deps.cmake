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
