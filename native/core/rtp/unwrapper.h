// Unwrapping of RTP's wrapping counters into monotonic 64-bit values: the 16-bit sequence number and the
// 32-bit timestamp. Each new value is placed at the position closest to the previous one (forward if the
// modular distance is below half the range, else backward), so reordering across a wrap stays ordered.
// Not thread-safe; one instance per stream.
#pragma once

#include <cstdint>

namespace sw::rtp {

template <int kBits>
class Unwrapper {
 public:
  static_assert(kBits > 0 && kBits < 63, "counter width");
  static constexpr int64_t kRange = int64_t{1} << kBits;

  // Returns the unwrapped value of `value` (only the low kBits bits are used). The first call returns
  // `value` itself; later calls may return values below 0 when a packet from before the first arrives.
  int64_t Unwrap(uint64_t value) {
    const int64_t v = static_cast<int64_t>(value & static_cast<uint64_t>(kRange - 1));
    if (!has_last_) {
      has_last_ = true;
      last_ = v;
      return v;
    }
    int64_t delta = (v - last_) & (kRange - 1);  // forward distance modulo the range
    if (delta >= kRange / 2) delta -= kRange;    // closer going backward
    last_ += delta;
    return last_;
  }
  // The last unwrapped value (0 before the first call).
  int64_t last() const { return last_; }
  bool has_last() const { return has_last_; }
  void Reset() {
    has_last_ = false;
    last_ = 0;
  }

 private:
  bool has_last_ = false;
  int64_t last_ = 0;
};

// 16-bit RTP sequence numbers.
class SequenceUnwrapper : public Unwrapper<16> {};
// 32-bit RTP timestamps.
class TimestampUnwrapper : public Unwrapper<32> {};

}  // namespace sw::rtp
