// Entry point of native_tests: runs every TEST() (optionally only those whose name contains argv[1]).
#include <cstdio>
#include <cstring>

#include "test/test.h"

int main(int argc, char** argv) {
  const char* filter = argc > 1 ? argv[1] : nullptr;
  int run = 0;
  for (const auto& t : swtest::Registry()) {
    if (filter != nullptr && std::strstr(t.name, filter) == nullptr) continue;
    int before = swtest::Failures();
    t.fn();
    ++run;
    std::printf("%s %s\n", swtest::Failures() == before ? "ok  " : "FAIL", t.name);
  }
  std::printf("%d tests, %d failed checks\n", run, swtest::Failures());
  return swtest::Failures() == 0 && run > 0 ? 0 : 1;
}
