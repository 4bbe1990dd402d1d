// A tiny in-house unit-test runner for the napi-free core (no downloads, no framework): TEST() registers a
// function, CHECK*() records failures with file:line and keeps going, main() (test/main.cc) runs them all and
// exits non-zero when any failed. Run by ctest (native_tests) after `npm run build:cmake`.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace swtest {

struct TestCase {
  const char* name;
  void (*fn)();
};

inline std::vector<TestCase>& Registry() {
  static std::vector<TestCase> tests;
  return tests;
}
inline int& Failures() {
  static int failures = 0;
  return failures;
}

struct Registrar {
  Registrar(const char* name, void (*fn)()) { Registry().push_back({name, fn}); }
};

inline void Fail(const char* file, int line, const std::string& what) {
  ++Failures();
  std::fprintf(stderr, "  FAILED %s:%d: %s\n", file, line, what.c_str());
}

template <typename A, typename B>
void CheckEq(const A& a, const B& b, const char* ea, const char* eb, const char* file, int line) {
  if (!(a == b)) {
    std::ostringstream os;
    os << ea << " == " << eb << " (" << +a << " vs " << +b << ")";
    Fail(file, line, os.str());
  }
}

}  // namespace swtest

#define TEST(name)                                             \
  static void name();                                          \
  static ::swtest::Registrar name##_registrar(#name, &(name)); \
  static void name()

#define CHECK(cond) ((cond) ? (void)0 : ::swtest::Fail(__FILE__, __LINE__, "CHECK(" #cond ")"))
#define CHECK_EQ(a, b) ::swtest::CheckEq((a), (b), #a, #b, __FILE__, __LINE__)
