// VP8 RTP depacketizer (RFC 7741): RTP packets in any order -> whole VP8 frames in decode order.
//
// A frame is the run of packets sharing one RTP timestamp, from the packet whose descriptor has S=1 and
// PID=0 up to the packet with the marker bit, with no sequence number missing. Frames leave in sequence
// order and only when decodable: the first frame must be a keyframe, and after a gap that was not filled
// in time (max_wait_ms, during which NACKed packets may arrive) every delta frame is dropped until the next
// keyframe. Duplicates and packets older than the last emitted frame are counted and ignored. A new SSRC
// or a sequence jump of more than kMaxSequenceJump restarts the stream (and waits for a keyframe).
//
// Loss signalling is decided here (see LossController): the sequence numbers to NACK and a PLI whenever a
// frame cannot be completed, both fetched with BuildFeedback().
//
// Memory is bounded by max_packets (packets buffered while waiting for a gap) and max_frame_bytes. Pure
// C++17, synchronous, not thread-safe: one owner thread per instance. Times are the caller's clock in ms.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "core/rtp/unwrapper.h"
#include "core/video/loss_controller.h"
#include "core/video/vp8_payload.h"

namespace sw::video {

struct Vp8DepacketizerOptions {
  int payload_type = -1;             // 0..127, or -1 to accept any payload type
  size_t max_packets = 1024;         // packets buffered at most (a video frame at 1200 bytes each)
  size_t max_frame_bytes = 4 << 20;  // largest frame accepted, bytes
  int max_wait_ms = 100;             // how long a sequence gap may block newer frames before it is lost
  LossControllerOptions loss;
};

// One assembled frame: the VP8 bitstream with every payload descriptor removed.
struct Vp8Frame {
  std::vector<uint8_t> data;
  uint32_t timestamp = 0;  // RTP timestamp (90 kHz)
  uint32_t ssrc = 0;
  bool keyframe = false;
  uint16_t width = 0;  // keyframes only (from the VP8 keyframe header), pixels
  uint16_t height = 0;
  int32_t picture_id = -1;  // -1 when the sender sends none
  uint16_t first_sequence = 0;
  uint16_t last_sequence = 0;
  uint32_t packets = 0;
  int64_t first_arrival_ms = 0;  // arrival of the frame's earliest packet
  int64_t last_arrival_ms = 0;   // arrival of the packet that completed it
};

struct Vp8DepacketizerStats {
  uint64_t packets = 0;          // packets accepted into the buffer
  uint64_t duplicates = 0;       // packets already buffered
  uint64_t late = 0;             // packets at or behind the last emitted frame (already used or given up)
  uint64_t malformed = 0;        // packets refused with a Vp8Status
  uint64_t frames = 0;           // frames emitted
  uint64_t keyframes = 0;        // keyframes emitted
  uint64_t frames_dropped = 0;   // complete delta frames dropped while waiting for a keyframe
  uint64_t packets_dropped = 0;  // buffered packets discarded (lost gap, overflow, oversized frame)
  uint64_t gaps_lost = 0;        // gaps given up on (each makes the stream wait for a keyframe)
  uint64_t resets = 0;           // stream restarts (SSRC change, sequence jump)
  size_t buffered_packets = 0;
  bool waiting_for_keyframe = true;
  LossControllerStats loss;
};

class Vp8Depacketizer {
 public:
  static constexpr int64_t kMaxSequenceJump = 3000;  // packets; further is a new stream

  explicit Vp8Depacketizer(const Vp8DepacketizerOptions& options);

  // Takes one whole RTP packet that arrived at `now_ms`. kOk when it was buffered, counted as a duplicate
  // or late, else the reason it was refused (the packet is then ignored; the stream is unaffected).
  // Completed frames become available through PopFrame().
  Vp8Status Push(const uint8_t* packet, size_t size, int64_t now_ms);
  // Lets time pass without a packet: a gap older than max_wait_ms is given up on.
  void Poll(int64_t now_ms);
  // The next decodable frame, oldest first. False when none is ready.
  bool PopFrame(Vp8Frame* out);
  size_t ready_frames() const { return ready_.size(); }

  // Appends the RTCP feedback due at `now_ms` (a generic NACK and/or a PLI about the stream's SSRC, sent
  // from `sender_ssrc`) to `rtcp`. Returns true when something was appended. Before the first packet a PLI
  // names `fallback_media_ssrc` (the SSRC the peer announced in its SDP) when it is >= 0; without one the
  // PLI stays pending until a packet names the stream.
  bool BuildFeedback(int64_t now_ms, uint32_t sender_ssrc, std::vector<uint8_t>* rtcp,
                     int64_t fallback_media_ssrc = -1);
  // Earliest time Poll() or BuildFeedback() has something new to do; -1 when idle (always before the first
  // packet: a PLI asked for then goes out from the request's own BuildFeedback, or after that packet).
  int64_t NextDeadlineMs() const;
  // Asks the sender for a keyframe (a decoder error, a snapshot wanted after a pause), rate-limited.
  void RequestKeyframe() { loss_.RequestKeyframe(); }
  // Forgets the stream (buffered packets, ready frames); waits for a keyframe again.
  void Reset();

  Vp8DepacketizerStats stats() const;
  const Vp8DepacketizerOptions& options() const { return o_; }

 private:
  struct Packet {
    uint32_t timestamp = 0;
    bool marker = false;
    bool frame_start = false;
    bool keyframe = false;  // frame_start packets only
    uint16_t width = 0;
    uint16_t height = 0;
    int32_t picture_id = -1;
    int64_t arrival_ms = 0;
    std::vector<uint8_t> data;  // VP8 bytes after the descriptor
  };
  using PacketMap = std::map<int64_t, Packet>;

  void Restart();
  void Assemble(int64_t now_ms);
  // If a whole frame starts at `it`, sets *last to its final packet and returns true.
  bool CompleteFrameAt(PacketMap::const_iterator it, PacketMap::const_iterator* last, size_t* bytes) const;
  // Whether the frame starting at `it` can never complete (a timestamp change before the marker).
  bool BrokenFrameAt(PacketMap::const_iterator it) const;
  void Emit(PacketMap::iterator first, PacketMap::iterator last);
  void DropBefore(int64_t seq);
  void GiveUpGap(int64_t now_ms);

  Vp8DepacketizerOptions o_;
  LossController loss_;
  rtp::SequenceUnwrapper unwrap_;
  PacketMap packets_;
  std::deque<Vp8Frame> ready_;
  bool has_ssrc_ = false;
  uint32_t ssrc_ = 0;
  bool has_next_ = false;
  int64_t next_seq_ = 0;  // unwrapped sequence number right after the last emitted frame
  bool waiting_keyframe_ = true;
  int64_t blocked_since_ms_ = -1;  // when the buffer last stopped making progress, -1 when not blocked
  Vp8DepacketizerStats stats_;
};

}  // namespace sw::video
