// Send-side handling of the RTCP feedback a peer sends about our video stream: PLI (RFC 4585) and FIR
// (RFC 5104) become keyframe requests, REMB (draft-alvestrand-rmcat-remb) a bitrate estimate, generic
// NACKs are counted. Keyframes are spaced at least min_keyframe_interval_ms apart: a request inside that
// window is remembered and granted when it ends, never lost. A FIR repeated with the same command sequence
// number is a retransmission of the same request (RFC 5104 4.3.1.2) and is ignored.
//
// Pure C++17, synchronous, not thread-safe (one owner thread). Times are the caller's clock in ms.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/rtp/rtcp.h"

namespace sw::video {

inline constexpr uint8_t kFmtFir = 4;
inline constexpr uint8_t kFmtAfb = 15;  // application layer feedback (REMB)

struct VideoFeedbackResult {
  bool keyframe_requested = false;  // a PLI or a new FIR for our SSRC in this packet
  int64_t remb_bps = -1;            // the REMB estimate when this packet carried one that covers us
  uint32_t nacked = 0;              // sequence numbers of ours NACKed in this packet
};

struct VideoSenderFeedbackStats {
  uint64_t plis = 0;
  uint64_t firs = 0;
  uint64_t nacked = 0;
  uint64_t rembs = 0;
  uint64_t keyframes_granted = 0;
  int64_t last_remb_bps = -1;
};

class VideoSenderFeedback {
 public:
  VideoSenderFeedback(uint32_t media_ssrc, int min_keyframe_interval_ms)
      : ssrc_(media_ssrc), min_interval_ms_(min_keyframe_interval_ms < 0 ? 0 : min_keyframe_interval_ms) {}

  // Reads one (compound) RTCP packet from the peer. Feedback about other SSRCs is ignored. On a malformed
  // packet returns its status; what was parsed before the error still counts.
  rtp::RtcpStatus OnRtcp(const uint8_t* data, size_t size, VideoFeedbackResult* out);
  // Asks for a keyframe ourselves (e.g. a new receiver joined).
  void RequestKeyframe() { pending_ = true; }
  // True when the next frame should be a keyframe (a request is pending and the spacing allows it);
  // marks it granted.
  bool TakeKeyframeRequest(int64_t now_ms);
  bool keyframe_pending() const { return pending_; }
  void SetSsrc(uint32_t ssrc) { ssrc_ = ssrc; }
  const VideoSenderFeedbackStats& stats() const { return stats_; }

 private:
  uint32_t ssrc_;
  int min_interval_ms_;
  bool pending_ = false;
  bool has_granted_ = false;
  int64_t last_granted_ms_ = 0;
  bool has_fir_seq_ = false;
  uint8_t last_fir_seq_ = 0;
  VideoSenderFeedbackStats stats_;
};

}  // namespace sw::video
