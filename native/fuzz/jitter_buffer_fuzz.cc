// libFuzzer target: the audio JitterBuffer on its own (the part of AudioReceiver that keeps state about the
// peer's sequence numbers, timestamps, SSRCs and arrival times), driven by fuzz bytes without the Opus
// decoder in front of it, so the fuzzer spends its time on the buffer's arithmetic. Must never crash or
// trip ASan/UBSan; must keep at most kCapacity packets; every event must be well formed (kPacket data inside
// the pushed payload sizes, sample counts at most 120 ms, skip <= samples of the packet).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/audio/jitter_buffer.h"

using namespace sw::audio;

namespace {

class Reader {
 public:
  Reader(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  bool empty() const { return pos_ >= n_; }
  uint8_t u8() { return pos_ < n_ ? d_[pos_++] : 0; }
  uint16_t u16() { return static_cast<uint16_t>((u8() << 8) | u8()); }
  uint32_t u32() { return (uint32_t{u16()} << 16) | u16(); }
  const uint8_t* take(size_t want, size_t* got) {
    *got = std::min(want, n_ - std::min(pos_, n_));
    const uint8_t* p = d_ + std::min(pos_, n_);
    pos_ += *got;
    return p;
  }

 private:
  const uint8_t* d_;
  size_t n_;
  size_t pos_ = 0;
};

// Checks every event the buffer emits (an Opus frame is at most 120 ms = 5760 samples at 48 kHz; a
// concealment step asks for at most that much at once).
class CheckingSink : public JitterSink {
 public:
  void onJitterEvent(const JitterEvent& e) override {
    if (e.kind == JitterEvent::Kind::kPacket) {
      if (e.data == nullptr || e.len == 0 || e.len > JitterBuffer::kMaxPayload) std::abort();
    }
    if (e.kind == JitterEvent::Kind::kFec && (e.data == nullptr || e.len == 0)) std::abort();
    if (e.samples > 5760 * 4 || e.decodeSamples > 5760 * 4) std::abort();
    events++;
  }
  uint64_t events = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader in(data, size);
  JitterBufferOptions o;
  const uint8_t d = in.u8();
  o.minDelayMs = d % 60;
  o.maxDelayMs = o.minDelayMs + (d / 60) * 50;
  o.maxConcealMs = 20 + (in.u8() % 16) * 20;
  JitterBuffer jb(o);
  CheckingSink sink;
  uint16_t seq = in.u16();
  uint32_t ts = in.u32();
  uint32_t ssrc = in.u32();
  double now = static_cast<double>(static_cast<int32_t>(in.u32()));
  for (int ops = 0; ops < 500 && !in.empty(); ++ops) {
    const uint8_t op = in.u8();
    const int8_t dt = static_cast<int8_t>(in.u8());
    now += (op & 0x80) ? dt * 131.0 : (dt & 0x3F);
    if ((op & 0x70) == 0x70) now = static_cast<double>(static_cast<int32_t>(in.u32())) * 1e6;  // far jumps
    switch (op & 0x03) {
      case 0:
        jb.poll(now, sink);
        break;
      case 1:
        if ((op & 0x0C) == 0) jb.reset();
        jb.poll(now, sink);
        break;
      default: {
        const uint8_t how = in.u8();
        if (how & 0x01)
          seq = static_cast<uint16_t>(seq + static_cast<int16_t>(in.u16()));
        else
          seq++;
        if (how & 0x02)
          ts += static_cast<uint32_t>(static_cast<int16_t>(in.u16())) * 120u;
        else
          ts += 960;
        if (how & 0x04) ts = in.u32();
        if ((how & 0x18) == 0x18) ssrc = in.u32();
        size_t n = 0;
        // Payload bytes are the Opus TOC and frame data: the buffer reads the TOC for the duration and the
        // LBRR flag. Longer than kMaxPayload sometimes, to hit that bound.
        const size_t want = (how & 0x20) ? 1400 + in.u8() * 2 : in.u8() % 200;
        const uint8_t* payload = in.take(want, &n);
        jb.push(payload, n, ssrc, seq, ts, now, sink);
        if (how & 0x40) jb.push(payload, n, ssrc, seq, ts, now, sink);  // duplicate
        break;
      }
    }
    if (jb.stats().buffered > JitterBuffer::kCapacity) std::abort();
    (void)jb.nextDeadlineMs();
  }
  return 0;
}
