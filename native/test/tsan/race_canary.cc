// A deliberate data race (two threads increment a plain int without synchronization). ctest runs it in the
// TSan build and passes only when ThreadSanitizer reports "data race": proof that the TSan variant of the
// unit tests (native_tests_tsan) would report a race in the worker facility, not silently run uninstrumented.
#include <cstdio>
#include <thread>

namespace {
int counter = 0;  // NOT atomic, on purpose
}  // namespace

int main() {
  std::thread t([] {
    for (int i = 0; i < 1000; ++i) counter++;
  });
  for (int i = 0; i < 1000; ++i) counter++;
  t.join();
  std::printf("counter=%d\n", counter);
  return 0;
}
