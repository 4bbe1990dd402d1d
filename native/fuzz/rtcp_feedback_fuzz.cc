// libFuzzer target: VideoSenderFeedback (the send side of RTCP feedback from the peer: PLI, FIR, REMB,
// generic NACK) fed arbitrary compound RTCP packets at arbitrary times. Must never read out of bounds or
// trip ASan/UBSan; a keyframe is granted only after a request (a PLI/FIR in a packet or RequestKeyframe),
// never twice inside the minimum interval while the clock moves forward, and the counters agree with the
// per-packet results.
//
// Input: options byte (SSRC choice, interval), then records [flags:1][dt:1][len:2 big endian][len bytes].
// flags bit 0: TakeKeyframeRequest after the packet; bit 1: RequestKeyframe; bit 2: SetSsrc to the first
// SSRC field of the packet; bit 7: the clock moves backwards by dt (a caller's clock may).
#include <cstdint>
#include <cstdlib>

#include "core/video/video_sender_feedback.h"

using namespace sw::video;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // SSRC 0x01020304 or one the input chooses: either way the feedback must name it to count.
  const uint32_t ssrc = (data[0] & 1) ? 0x01020304u : 0x00000000u;
  const int interval = (data[0] >> 1) * 8;  // 0..1016 ms
  VideoSenderFeedback fb(ssrc, interval);
  size_t pos = 1;
  int64_t now = 0;
  uint64_t requests = 0;  // requests made (PLI/FIR in a packet, or ours)
  uint64_t nacked = 0;
  bool granted_before = false;
  int64_t last_grant = 0;
  while (pos + 4 <= size) {
    const uint8_t flags = data[pos];
    const int64_t dt = data[pos + 1];
    const size_t len = (size_t{data[pos + 2]} << 8) | data[pos + 3];
    pos += 4;
    const size_t n = len < size - pos ? len : size - pos;
    const bool forward = (flags & 0x80) == 0;
    now += forward ? dt : -dt;
    VideoFeedbackResult r;
    fb.OnRtcp(data + pos, n, &r);
    if (r.keyframe_requested) ++requests;
    if (r.remb_bps < -1) std::abort();
    nacked += r.nacked;
    if ((flags & 4) && n >= 8) {
      fb.SetSsrc((uint32_t{data[pos + 4]} << 24) | (uint32_t{data[pos + 5]} << 16) |
                 (uint32_t{data[pos + 6]} << 8) | data[pos + 7]);
    }
    pos += n;
    if (flags & 2) {
      fb.RequestKeyframe();
      ++requests;
    }
    if (flags & 1) {
      const bool was_pending = fb.keyframe_pending();
      const bool grant = fb.TakeKeyframeRequest(now);
      if (grant && !was_pending) std::abort();
      if (grant && granted_before && forward && now >= last_grant && now - last_grant < interval)
        std::abort();
      if (grant) {
        granted_before = true;
        last_grant = now;
      }
    }
    const VideoSenderFeedbackStats& st = fb.stats();
    if (st.keyframes_granted > requests || st.nacked != nacked) std::abort();
  }
  return 0;
}
