#include "core/video/vp8_depacketizer.h"

#include <algorithm>
#include <utility>

#include "core/rtp/rtcp.h"
#include "core/rtp/rtp_packet.h"

namespace sw::video {

Vp8Depacketizer::Vp8Depacketizer(const Vp8DepacketizerOptions& options) : o_(options), loss_(options.loss) {
  // A zero wait would give a gap up again in the same call that found it.
  o_.max_wait_ms = std::max(o_.max_wait_ms, 1);
  o_.max_packets = std::max<size_t>(o_.max_packets, 1);
}

Vp8Status Vp8Depacketizer::Push(const uint8_t* packet, size_t size, int64_t now_ms) {
  rtp::RtpHeader h;
  if (rtp::ParseRtp(packet, size, &h) != rtp::RtpStatus::kOk) {
    ++stats_.malformed;
    return Vp8Status::kNotRtp;
  }
  if (o_.payload_type >= 0 && h.payload_type != o_.payload_type) {
    ++stats_.malformed;
    return Vp8Status::kPayloadTypeMismatch;
  }
  // Padding-only packets (bandwidth probes) carry no VP8 data but occupy a sequence number: they are kept
  // as placeholders so the sequence stays continuous.
  const bool padding_only = h.payload_size == 0 && h.padding;
  Packet p;
  if (!padding_only) {
    const uint8_t* payload = packet + h.payload_offset;
    Vp8Descriptor d;
    Vp8Status st = ParseVp8Descriptor(payload, h.payload_size, &d);
    if (st == Vp8Status::kOk && d.IsFrameStart()) {
      Vp8FrameHeader fh;
      st = ParseVp8FrameHeader(payload + d.size, h.payload_size - d.size, &fh);
      p.keyframe = fh.keyframe;
      p.width = fh.width;
      p.height = fh.height;
    }
    if (st != Vp8Status::kOk) {
      ++stats_.malformed;
      return st;
    }
    p.frame_start = d.IsFrameStart();
    p.picture_id = d.has_picture_id ? d.picture_id : -1;
    p.data.assign(payload + d.size, payload + h.payload_size);
  }
  p.timestamp = h.timestamp;
  p.marker = h.marker;
  p.arrival_ms = now_ms;

  if (has_ssrc_ && h.ssrc != ssrc_) Restart();
  has_ssrc_ = true;
  ssrc_ = h.ssrc;
  int64_t seq = unwrap_.Unwrap(h.sequence_number);
  const bool has_ref = has_next_ || !packets_.empty();
  const int64_t ref = has_next_ ? next_seq_ : (packets_.empty() ? seq : packets_.rbegin()->first);
  if (has_ref && (seq - ref > kMaxSequenceJump || ref - seq > kMaxSequenceJump)) {
    Restart();
    seq = unwrap_.Unwrap(h.sequence_number);
  }
  if (has_next_ && seq < next_seq_) {
    ++stats_.late;
    return Vp8Status::kOk;
  }
  if (packets_.count(seq) != 0) {
    ++stats_.duplicates;
    return Vp8Status::kOk;
  }
  if (packets_.size() >= o_.max_packets) {
    GiveUpGap(now_ms);
    // Still full (one endless frame): drop the oldest packets.
    while (packets_.size() >= o_.max_packets) {
      packets_.erase(packets_.begin());
      ++stats_.packets_dropped;
    }
  }
  packets_.emplace(seq, std::move(p));
  ++stats_.packets;
  loss_.OnPacket(seq, now_ms);
  Assemble(now_ms);
  return Vp8Status::kOk;
}

void Vp8Depacketizer::Poll(int64_t now_ms) { Assemble(now_ms); }

bool Vp8Depacketizer::PopFrame(Vp8Frame* out) {
  if (ready_.empty()) return false;
  *out = std::move(ready_.front());
  ready_.pop_front();
  return true;
}

bool Vp8Depacketizer::CompleteFrameAt(PacketMap::const_iterator it, PacketMap::const_iterator* last,
                                      size_t* bytes) const {
  const uint32_t ts = it->second.timestamp;
  int64_t seq = it->first;
  size_t total = 0;
  for (auto j = it; j != packets_.end(); ++j, ++seq) {
    if (j->first != seq) return false;  // a hole
    if (j->second.timestamp != ts || (j != it && j->second.frame_start)) return false;
    total += j->second.data.size();
    if (j->second.marker) {
      *last = j;
      *bytes = total;
      return true;
    }
  }
  return false;
}

bool Vp8Depacketizer::BrokenFrameAt(PacketMap::const_iterator it) const {
  if (!it->second.frame_start) return true;
  const uint32_t ts = it->second.timestamp;
  int64_t seq = it->first;
  for (auto j = it; j != packets_.end() && j->first == seq; ++j, ++seq) {
    if (j->second.timestamp != ts || (j != it && j->second.frame_start)) return true;
    if (j->second.marker) return false;
  }
  return false;  // incomplete, but the missing packets may still come
}

void Vp8Depacketizer::Emit(PacketMap::iterator first, PacketMap::iterator last) {
  Vp8Frame f;
  const Packet& p0 = first->second;
  f.timestamp = p0.timestamp;
  f.ssrc = ssrc_;
  f.keyframe = p0.keyframe;
  f.width = p0.width;
  f.height = p0.height;
  f.picture_id = p0.picture_id;
  f.first_sequence = static_cast<uint16_t>(first->first & 0xFFFF);
  f.last_sequence = static_cast<uint16_t>(last->first & 0xFFFF);
  f.first_arrival_ms = p0.arrival_ms;
  f.last_arrival_ms = p0.arrival_ms;
  size_t bytes = 0;
  auto end = std::next(last);
  for (auto it = first; it != end; ++it) bytes += it->second.data.size();
  f.data.reserve(bytes);
  for (auto it = first; it != end; ++it) {
    f.data.insert(f.data.end(), it->second.data.begin(), it->second.data.end());
    f.first_arrival_ms = std::min(f.first_arrival_ms, it->second.arrival_ms);
    f.last_arrival_ms = std::max(f.last_arrival_ms, it->second.arrival_ms);
    ++f.packets;
  }
  const int64_t last_seq = last->first;
  packets_.erase(first, end);
  has_next_ = true;
  next_seq_ = last_seq + 1;
  loss_.Forget(last_seq);
  if (f.keyframe) {
    waiting_keyframe_ = false;
    loss_.OnKeyframe();
    ++stats_.keyframes;
  }
  ++stats_.frames;
  blocked_since_ms_ = -1;
  ready_.push_back(std::move(f));
}

void Vp8Depacketizer::DropBefore(int64_t seq) {
  auto end = packets_.lower_bound(seq);
  stats_.packets_dropped += static_cast<uint64_t>(std::distance(packets_.begin(), end));
  packets_.erase(packets_.begin(), end);
  loss_.Forget(seq - 1);
}

void Vp8Depacketizer::GiveUpGap(int64_t now_ms) {
  ++stats_.gaps_lost;
  waiting_keyframe_ = true;
  loss_.RequestKeyframe();
  // Keep only what can still become a keyframe: from the newest keyframe start, else the newest frame's
  // packets (its start may be among the packets still missing).
  int64_t keep_from = packets_.empty() ? 0 : packets_.rbegin()->first + 1;
  bool found = false;
  for (auto it = packets_.rbegin(); it != packets_.rend(); ++it) {
    if (it->second.frame_start && it->second.keyframe) {
      keep_from = it->first;
      found = true;
      break;
    }
  }
  if (!found && !packets_.empty()) {
    const uint32_t ts = packets_.rbegin()->second.timestamp;
    for (auto it = packets_.rbegin(); it != packets_.rend() && it->second.timestamp == ts; ++it) {
      keep_from = it->first;
    }
  }
  DropBefore(keep_from);
  blocked_since_ms_ = packets_.empty() ? -1 : now_ms;
}

void Vp8Depacketizer::Assemble(int64_t now_ms) {
  bool progress = true;
  while (progress) {
    progress = false;
    if (has_next_ && !waiting_keyframe_) {
      auto it = packets_.find(next_seq_);
      // Padding placeholders between frames: step over them.
      while (it != packets_.end() && it->first == next_seq_ && it->second.data.empty() &&
             !it->second.frame_start) {
        it = packets_.erase(it);
        loss_.Forget(next_seq_);
        ++next_seq_;
        blocked_since_ms_ = -1;
      }
      if (it != packets_.end() && it->first == next_seq_) {
        PacketMap::const_iterator last;
        size_t bytes = 0;
        if (BrokenFrameAt(it)) {
          GiveUpGap(now_ms);
          progress = true;
          continue;
        }
        if (CompleteFrameAt(it, &last, &bytes)) {
          if (bytes > o_.max_frame_bytes) {
            DropBefore(last->first + 1);
            GiveUpGap(now_ms);
          } else {
            Emit(it, packets_.find(last->first));
          }
          progress = true;
          continue;
        }
      }
    }
    // Not continuous: a complete keyframe further on lets the stream jump ahead; while waiting for one,
    // a complete delta frame at the head of the buffer is useless and dropped at once.
    for (auto it = packets_.begin(); it != packets_.end(); ++it) {
      if (!it->second.frame_start) continue;
      PacketMap::const_iterator last;
      size_t bytes = 0;
      if (!CompleteFrameAt(it, &last, &bytes)) continue;
      const int64_t first_seq = it->first;
      const int64_t last_seq = last->first;
      if (it->second.keyframe && bytes <= o_.max_frame_bytes) {
        if (has_next_ && !waiting_keyframe_ && next_seq_ < first_seq) ++stats_.gaps_lost;  // jumped a gap
        DropBefore(first_seq);
        Emit(packets_.find(first_seq), packets_.find(last_seq));
        progress = true;
        break;
      }
      // Only when nothing precedes it: an earlier packet may belong to a keyframe still being completed.
      if (waiting_keyframe_ && it == packets_.begin()) {
        DropBefore(last_seq + 1);
        ++stats_.frames_dropped;
        loss_.RequestKeyframe();
        progress = true;
        break;
      }
    }
  }

  // A hole: fewer packets buffered than the sequence range they span (from the next expected one).
  bool hole = false;
  if (!packets_.empty()) {
    const int64_t base = has_next_ && !waiting_keyframe_ ? next_seq_ : packets_.begin()->first;
    hole = static_cast<int64_t>(packets_.size()) < packets_.rbegin()->first - base + 1;
  }
  if (!hole) {
    blocked_since_ms_ = -1;
  } else if (blocked_since_ms_ < 0) {
    blocked_since_ms_ = now_ms;
  } else if (now_ms - blocked_since_ms_ >= o_.max_wait_ms) {
    GiveUpGap(now_ms);
    // A keyframe already complete behind the gap can now go out.
    Assemble(now_ms);
  }
}

bool Vp8Depacketizer::BuildFeedback(int64_t now_ms, uint32_t sender_ssrc, std::vector<uint8_t>* rtcp,
                                    int64_t fallback_media_ssrc) {
  // Without an SSRC to name, nothing is polled: a pending PLI is kept, not spent on a packet never sent.
  if (!has_ssrc_ && (fallback_media_ssrc < 0 || fallback_media_ssrc > 0xFFFFFFFFll)) return false;
  const uint32_t media = has_ssrc_ ? ssrc_ : static_cast<uint32_t>(fallback_media_ssrc);
  std::vector<uint16_t> nacks;
  bool pli = false;
  if (!loss_.Poll(now_ms, &nacks, &pli)) return false;
  bool wrote = false;
  if (!nacks.empty() && o_.loss.nack) {
    wrote |= rtp::AppendNack(rtcp, sender_ssrc, media, nacks) == rtp::RtcpStatus::kOk;
  }
  if (pli) wrote |= rtp::AppendPli(rtcp, sender_ssrc, media) == rtp::RtcpStatus::kOk;
  return wrote;
}

int64_t Vp8Depacketizer::NextDeadlineMs() const {
  if (!has_ssrc_) return -1;
  int64_t next = loss_.NextDeadlineMs();
  if (blocked_since_ms_ >= 0) {
    const int64_t t = blocked_since_ms_ + o_.max_wait_ms;
    next = next < 0 ? t : std::min(next, t);
  }
  return next;
}

void Vp8Depacketizer::Restart() {
  if (has_next_ || !packets_.empty()) ++stats_.resets;
  stats_.packets_dropped += packets_.size();
  packets_.clear();
  has_next_ = false;
  next_seq_ = 0;
  waiting_keyframe_ = true;
  blocked_since_ms_ = -1;
  unwrap_.Reset();
  loss_.Reset();
}

void Vp8Depacketizer::Reset() {
  Restart();
  ready_.clear();
  has_ssrc_ = false;
}

Vp8DepacketizerStats Vp8Depacketizer::stats() const {
  Vp8DepacketizerStats s = stats_;
  s.buffered_packets = packets_.size();
  s.waiting_for_keyframe = waiting_keyframe_;
  s.loss = loss_.stats();
  return s;
}

}  // namespace sw::video
