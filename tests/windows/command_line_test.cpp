// The command line, environment block, cwd and program lookup an OCI process becomes.
#include <windows.h>

#include <shellapi.h>

#include <cerrno>

#include <gtest/gtest.h>

#include "litebox/windows/command_line.hpp"
#include "litebox/windows/utf.hpp"
#include "test_support.hpp"

namespace {

using namespace litebox::windows_host;

std::vector<std::string> split(const std::wstring& line) {
  int argc = 0;
  wchar_t** argv = CommandLineToArgvW(line.c_str(), &argc);
  std::vector<std::string> out;
  for (int i = 0; i < argc; ++i) out.push_back(narrow(argv[i]));
  LocalFree(argv);
  return out;
}

TEST(WindowsCommandLine, QuotingIsTheInverseOfCommandLineToArgvW) {
  const std::vector<std::string> args{"prog.exe", "plain", "with space", "", "a\"b", "trail\\", "tr ail\\",
                                      "back\\\\\"slash", "tab\there"};
  EXPECT_EQ(split(L"prog.exe " + quote_command_line({args.begin() + 1, args.end()})),
            args);
}

TEST(WindowsCommandLine, EnvironmentBlockIsSortedWithoutCaseAndDoubleNulTerminated) {
  const std::wstring block = environment_block({"b=2", "A=1", "SystemRoot=C:\\windows", "noequals", "a=3"});
  EXPECT_EQ(block, std::wstring(L"a=3\0b=2\0SystemRoot=C:\\windows\0\0", 31));
}

TEST(WindowsCommandLine, CwdIsUnderTheRootAndCannotClimbOut) {
  const std::filesystem::path root(L"C:\\bundle\\rootfs");
  EXPECT_EQ(path_in_root(root, "C:\\app\\x").wstring(), L"C:\\bundle\\rootfs\\app\\x");
  EXPECT_EQ(path_in_root(root, "/app/../../..").wstring(), L"C:\\bundle\\rootfs");
  EXPECT_EQ(path_in_root(root, "\\").wstring(), L"C:\\bundle\\rootfs");
}

TEST(WindowsCommandLine, ProgramLookupTriesTheRootThenPath) {
  litebox_test::TempDir root;
  litebox_test::TempDir bin;
  litebox_test::write_file(root.path / L"inroot.exe", "MZ");
  litebox_test::write_file(bin.path / L"onpath.exe", "MZ");
  const std::vector<std::string> env{"Path=C:\\nonexistent;" + narrow(bin.path.wstring())};
  auto a = find_program("inroot", root.path, env);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a.value(), root.path / L"inroot.exe");
  auto b = find_program("onpath.exe", root.path, env);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b.value(), bin.path / L"onpath.exe");
  auto c = find_program("missing", root.path, env);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ENOENT);
  EXPECT_NE(c.error().message.find("executable file not found"), std::string::npos);
}

}  // namespace
