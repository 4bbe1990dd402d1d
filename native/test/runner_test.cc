// Self-test of the runner: proves CHECK/CHECK_EQ pass on true conditions (a false one fails the binary).
#include "test/test.h"

TEST(RunnerChecksPass) {
  CHECK(1 + 1 == 2);
  CHECK_EQ(uint16_t{65535} + 1, 65536);
}
