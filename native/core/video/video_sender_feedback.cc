#include "core/video/video_sender_feedback.h"

#include <vector>

namespace sw::video {
namespace {

uint32_t Read32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | p[3];
}

}  // namespace

rtp::RtcpStatus VideoSenderFeedback::OnRtcp(const uint8_t* data, size_t size, VideoFeedbackResult* out) {
  *out = VideoFeedbackResult{};
  std::vector<rtp::RtcpPacket> packets;
  const rtp::RtcpStatus st = rtp::ParseRtcp(data, size, &packets);
  for (const rtp::RtcpPacket& p : packets) {
    // The parser checked that [offset, offset + size) lies inside `data`; the FCI starts after the 12-byte
    // common feedback header (RFC 4585 6.1).
    const uint8_t* fci = data + p.offset + 12;
    const size_t fci_size = p.size >= 12 ? p.size - 12 : 0;
    if (p.type == rtp::kRtcpPsfb && p.fmt == rtp::kFmtPli && p.media_ssrc == ssrc_) {
      ++stats_.plis;
      out->keyframe_requested = true;
    } else if (p.type == rtp::kRtcpPsfb && p.fmt == kFmtFir) {
      // FCI entries: SSRC (4), command sequence number (1), reserved (3).
      for (size_t pos = 0; pos + 8 <= fci_size; pos += 8) {
        if (Read32(fci + pos) != ssrc_) continue;
        const uint8_t seq = fci[pos + 4];
        if (has_fir_seq_ && seq == last_fir_seq_) continue;
        has_fir_seq_ = true;
        last_fir_seq_ = seq;
        ++stats_.firs;
        out->keyframe_requested = true;
      }
    } else if (p.type == rtp::kRtcpPsfb && p.fmt == kFmtAfb) {
      // REMB: 'R' 'E' 'M' 'B', Num SSRC (1), BR Exp (6 bits) + BR Mantissa (18 bits), then the SSRCs.
      if (fci_size < 8 || fci[0] != 'R' || fci[1] != 'E' || fci[2] != 'M' || fci[3] != 'B') continue;
      const size_t n = fci[4];
      if (8 + 4 * n > fci_size) continue;
      bool covers = n == 0;
      for (size_t i = 0; i < n; ++i) covers |= Read32(fci + 8 + 4 * i) == ssrc_;
      if (!covers) continue;
      const uint32_t exp = fci[5] >> 2;
      const uint64_t mantissa = ((fci[5] & 3u) << 16) | (static_cast<uint32_t>(fci[6]) << 8) | fci[7];
      // 18-bit mantissa << up to 63: saturate instead of overflowing.
      const int64_t bps = exp > 40 ? INT64_MAX : static_cast<int64_t>(mantissa << exp);
      ++stats_.rembs;
      stats_.last_remb_bps = bps;
      out->remb_bps = bps;
    } else if (p.type == rtp::kRtcpRtpfb && p.fmt == rtp::kFmtNack && p.media_ssrc == ssrc_) {
      out->nacked += static_cast<uint32_t>(p.nack_sequence_numbers.size());
      stats_.nacked += p.nack_sequence_numbers.size();
    }
  }
  if (out->keyframe_requested) pending_ = true;
  return st;
}

bool VideoSenderFeedback::TakeKeyframeRequest(int64_t now_ms) {
  if (!pending_) return false;
  if (has_granted_ && now_ms - last_granted_ms_ < min_interval_ms_ && now_ms >= last_granted_ms_)
    return false;
  pending_ = false;
  has_granted_ = true;
  last_granted_ms_ = now_ms;
  ++stats_.keyframes_granted;
  return true;
}

}  // namespace sw::video
