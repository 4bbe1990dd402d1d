// libFuzzer target: Vp8Depacketizer fed arbitrary RTP packets at arbitrary times must never read out of
// bounds or crash, must keep its buffer within max_packets, must emit only non-empty frames no larger than
// max_frame_bytes whose first frame (and first after a restart) is a keyframe, and its RTCP feedback must
// parse back as valid RTCP.
//
// Input: a sequence of records [flags:1][dt:1][len:2 big endian][len bytes of packet]. flags bit 0 asks for
// a Poll, bit 1 for BuildFeedback, bit 2 for RequestKeyframe; dt advances the clock in ms (bit 7 of flags
// moves it backwards, as a caller's clock may).
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/rtp/rtcp.h"
#include "core/video/vp8_depacketizer.h"

using namespace sw::video;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Vp8DepacketizerOptions o;
  o.payload_type = size > 0 && (data[0] & 0x40) ? -1 : 96;
  o.max_packets = 64;
  o.max_frame_bytes = 16 * 1024;
  o.max_wait_ms = 50;
  o.loss.nack = true;
  o.loss.max_nack_list = 100;
  Vp8Depacketizer d(o);
  int64_t now = 0;
  size_t pos = 0;
  bool need_keyframe = true;
  uint32_t ssrc = 0;
  std::vector<uint8_t> rtcp;
  while (pos + 4 <= size) {
    const uint8_t flags = data[pos];
    const int64_t dt = data[pos + 1];
    const size_t len = (size_t{data[pos + 2]} << 8) | data[pos + 3];
    pos += 4;
    const size_t n = len < size - pos ? len : size - pos;
    now += (flags & 0x80) ? -dt : dt;
    d.Push(data + pos, n, now);
    pos += n;
    if (flags & 1) d.Poll(now);
    if (flags & 4) d.RequestKeyframe();
    if (flags & 2) {
      rtcp.clear();
      if (d.BuildFeedback(now, 1, &rtcp)) {
        std::vector<sw::rtp::RtcpPacket> parsed;
        if (sw::rtp::ParseRtcp(rtcp.data(), rtcp.size(), &parsed) != sw::rtp::RtcpStatus::kOk) std::abort();
      }
    }
    const Vp8DepacketizerStats st = d.stats();
    if (st.buffered_packets > o.max_packets) std::abort();
    Vp8Frame f;
    while (d.PopFrame(&f)) {
      if (f.data.empty() || f.data.size() > o.max_frame_bytes || f.packets == 0) std::abort();
      if (f.ssrc != ssrc) need_keyframe = true;  // a new stream starts over
      ssrc = f.ssrc;
      if (need_keyframe && !f.keyframe) std::abort();
      need_keyframe = false;
    }
    // A sequence restart on the same SSRC also waits for a keyframe; the next frame after one must be a
    // keyframe again.
    if (d.stats().waiting_for_keyframe) need_keyframe = true;
  }
  return 0;
}
