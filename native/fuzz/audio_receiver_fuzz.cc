// libFuzzer target: AudioReceiver (RTP parse -> jitter buffer -> Opus decode / FEC / PLC -> resample ->
// framing) driven by fuzz bytes. The first bytes pick the options; the rest is a script of push/poll/reset
// operations whose sequence numbers, timestamps, SSRCs, arrival times (either direction, negative too) and
// Opus payloads all come from the input. Must never crash or trip ASan/UBSan, must keep the jitter buffer
// within its capacity, and every call must yield whole frames only.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/audio/audio_receiver.h"
#include "core/rtp/rtp_packet.h"

using namespace sw;

namespace {

class Reader {
 public:
  Reader(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  bool empty() const { return pos_ >= n_; }
  uint8_t u8() { return pos_ < n_ ? d_[pos_++] : 0; }
  uint16_t u16() { return static_cast<uint16_t>((u8() << 8) | u8()); }
  uint32_t u32() { return (uint32_t{u16()} << 16) | u16(); }
  // Up to `want` bytes (fewer at the end of the input).
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

void CheckOutput(const audio::AudioReceiver& rx) {
  for (size_t i = 0; i < rx.frameCount(); ++i) {
    if (rx.frameData(i) == nullptr) std::abort();
  }
  const audio::AudioReceiverStats s = rx.stats();
  if (s.jitter.buffered > audio::JitterBuffer::kCapacity) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader in(data, size);
  static const int kRates[] = {8000, 16000, 24000, 44100, 48000, 32000};
  audio::AudioReceiverOptions o;
  const uint8_t cfg = in.u8();
  o.sampleRate = kRates[cfg % 6];
  o.channels = (cfg & 0x08) ? 2 : 1;
  o.frameMs = (cfg & 0x10) ? 10 : 20;
  o.decodeAtTargetRate = (cfg & 0x20) == 0;
  o.payloadType = (cfg & 0x40) ? 111 : -1;
  o.resampleQuality = 0;  // fastest filter: the fuzzer explores control flow, not audio quality
  const uint8_t d = in.u8();
  o.jitter.minDelayMs = d % 40;
  o.jitter.maxDelayMs = o.jitter.minDelayMs + (d / 40) * 40;
  o.jitter.maxConcealMs = 20 + (in.u8() % 16) * 20;  // <= 320 ms keeps each input fast
  audio::AudioReceiver rx(o);

  uint16_t seq = in.u16();
  uint32_t ts = in.u32();
  uint32_t ssrc = in.u32();
  double now = static_cast<double>(static_cast<int32_t>(in.u32()));  // negative clocks too
  std::vector<uint8_t> packet;
  for (int ops = 0; ops < 400 && !in.empty(); ++ops) {
    const uint8_t op = in.u8();
    // Arrival time: mostly forward by 0..63 ms, sometimes far back or far ahead.
    const int8_t dt = static_cast<int8_t>(in.u8());
    now += (op & 0x80) ? dt * 97.0 : (dt & 0x3F);
    switch (op & 0x07) {
      case 0:
        rx.poll(now);
        break;
      case 1:
        if ((op & 0x78) == 0) rx.reset();
        rx.poll(now);
        break;
      case 2: {  // raw bytes, whatever they are
        size_t n = 0;
        const uint8_t* p = in.take(in.u8(), &n);
        rx.push(p, n, now);
        break;
      }
      default: {  // a valid RTP header around a fuzzed payload
        const uint8_t how = in.u8();
        if (how & 0x01)
          seq = static_cast<uint16_t>(seq + static_cast<int8_t>(in.u8()));
        else
          seq++;
        if (how & 0x02)
          ts += static_cast<uint32_t>(static_cast<int16_t>(in.u16())) * 120u;
        else
          ts += 960;
        if (how & 0x04) ts = in.u32();
        if ((how & 0x38) == 0x38) ssrc = in.u32();
        size_t n = 0;
        const uint8_t* payload = in.take(in.u8() % 160, &n);
        rtp::RtpBuildParams p;
        p.payload_type = (how & 0x40) ? 96 : 111;
        p.sequence_number = seq;
        p.timestamp = ts;
        p.ssrc = ssrc;
        packet.resize(rtp::RtpPacketSize(p, n));
        size_t written = 0;
        if (rtp::BuildRtp(p, payload, n, packet.data(), packet.size(), &written) != rtp::RtpStatus::kOk) {
          std::abort();
        }
        rx.push(packet.data(), written, now);
        // Sometimes the same packet again (duplicate flood).
        if (how & 0x80) rx.push(packet.data(), written, now);
        break;
      }
    }
    CheckOutput(rx);
  }
  return 0;
}
