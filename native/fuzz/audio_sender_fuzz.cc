// libFuzzer target: AudioSender (write -> resample -> bounded ring -> Opus -> RTP, paced by pull(now)) driven
// by fuzz bytes: options, then a script of writes of any size (odd, empty, larger than the ring), pulls at
// arbitrary times (backwards, far ahead, negative), clear(), SSRC / payload type / mid changes and bitrate
// changes. Must never crash or trip ASan/UBSan; every pull yields at most kMaxBurst packets, each a valid
// RTP packet with a non-empty payload; the queue never exceeds the configured capacity.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/audio/audio_sender.h"
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

 private:
  const uint8_t* d_;
  size_t n_;
  size_t pos_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader in(data, size);
  static const int kRates[] = {8000, 16000, 24000, 44100, 48000, 96000, 22050, 192000};
  audio::AudioSenderOptions o;
  const uint8_t cfg = in.u8();
  o.sampleRate = kRates[cfg & 7];
  o.channels = (cfg & 0x08) ? 2 : 1;
  o.encodeChannels = (cfg & 0x10) ? 2 : 1;
  o.frameMs = (cfg & 0x20) ? 10 : 20;
  o.dtx = (cfg & 0x40) != 0;
  o.autoSilence = (cfg & 0x80) == 0;
  o.capacityMs = 20 + in.u8() * 4;  // 20..1040 ms
  o.complexity = 0;                 // fastest encoder: the fuzzer explores control flow, not quality
  o.resampleQuality = 0;
  o.fec = (in.u8() & 1) != 0;
  o.packetLossPercent = in.u8() % 101;
  o.ssrc = in.u32();
  o.initialSequence = in.u16();
  o.initialTimestamp = in.u32();
  audio::AudioSender tx(o);
  const double capacityMs = o.capacityMs;

  double now = static_cast<double>(static_cast<int32_t>(in.u32()));
  std::vector<int16_t> pcm;
  for (int ops = 0; ops < 300 && !in.empty(); ++ops) {
    const uint8_t op = in.u8();
    switch (op & 0x07) {
      case 0:
      case 1: {  // write: length from the input (samples per channel), content from the input or a tone
        const size_t frames = (op & 0x08) ? size_t{in.u16()} : size_t{in.u8()};
        pcm.resize(frames * static_cast<size_t>(o.channels));
        const int16_t k = static_cast<int16_t>(in.u16());
        for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = static_cast<int16_t>(k * (i % 7) - k * 3);
        if (tx.write(pcm.data(), frames) > frames) std::abort();
        break;
      }
      case 2:
      case 3:
      case 4: {  // pull: mostly forward by 0..31 ms, sometimes back or far ahead
        const int8_t dt = static_cast<int8_t>(in.u8());
        now += (op & 0x80) ? dt * 211.0 : (dt & 0x1F);
        const size_t n = tx.pull(now);
        if (n > static_cast<size_t>(audio::AudioSender::kMaxBurst) || n != tx.packetCount()) std::abort();
        for (size_t i = 0; i < n; ++i) {
          rtp::RtpHeader h;
          if (rtp::ParseRtp(tx.packet(i), tx.packetLen(i), &h) != rtp::RtpStatus::kOk) std::abort();
          if (h.payload_size == 0 || h.ssrc != tx.options().ssrc) std::abort();
        }
        break;
      }
      case 5:
        tx.clear();
        break;
      case 6: {
        const uint8_t w = in.u8();
        if (w & 1) tx.setSsrc(in.u32());
        if (w & 2) tx.setPayloadType(in.u8() & 0x7F);
        if (w & 4) tx.setMidExtension(0, std::string());
        if (w & 8) tx.setMidExtension(1 + in.u8() % 14, std::string(1 + in.u8() % 16, 'm'));
        break;
      }
      default:
        tx.setBitrate(6000 + static_cast<int>(in.u16()) * 7);
        tx.setPacketLossPercent(in.u8() % 101);
        break;
    }
    // The ring is bounded by capacityMs; the resampler filter may hold a few ms more.
    if (tx.queuedMs() > capacityMs + 25) std::abort();
  }
  return 0;
}
