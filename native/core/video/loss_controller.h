// Receive-side loss signalling for one video stream: which sequence numbers to NACK (RFC 4585 generic NACK,
// only when the peer negotiated `nack`) and when to send a PLI (RFC 4585 picture loss indication) because a
// frame cannot be completed. Pure C++17, synchronous, not thread-safe (owned by one Vp8Depacketizer).
//
// Times are milliseconds on the caller's clock; sequence numbers are unwrapped (64-bit, see rtp/unwrapper.h).
// Memory is bounded: at most max_nack_list sequence numbers are tracked; a larger gap is not worth
// retransmitting and turns into a keyframe request instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

namespace sw::video {

struct LossControllerOptions {
  bool nack = false;           // the peer negotiated `a=rtcp-fb:<pt> nack`
  int nack_interval_ms = 40;   // wait between two NACKs of the same sequence number (about one RTT)
  int max_nack_retries = 3;    // NACKs per sequence number before giving up on it
  size_t max_nack_list = 250;  // tracked missing sequence numbers; a bigger gap asks for a keyframe
  int pli_interval_ms = 500;   // minimum spacing between two PLIs
};

struct LossControllerStats {
  uint64_t nacked = 0;         // sequence numbers sent in NACKs (a retry counts again)
  uint64_t recovered = 0;      // missing packets that arrived later (reordered or retransmitted)
  uint64_t nack_give_ups = 0;  // sequence numbers dropped after max_nack_retries
  uint64_t plis = 0;           // PLIs due
  size_t nack_list = 0;        // sequence numbers tracked now
};

class LossController {
 public:
  explicit LossController(const LossControllerOptions& options) : o_(options) {}

  // A packet with unwrapped sequence number `seq` arrived at `now_ms`.
  void OnPacket(int64_t seq, int64_t now_ms);
  // A frame cannot be completed (or a keyframe is wanted): a PLI is due, no sooner than pli_interval_ms
  // after the previous one.
  void RequestKeyframe();
  // A keyframe was assembled: a pending PLI is no longer needed.
  void OnKeyframe() { pli_pending_ = false; }
  // Stop NACKing sequence numbers <= `seq` (the depacketizer gave up on them or emitted past them).
  void Forget(int64_t seq);
  // Forgets everything (new SSRC); the PLI rate limit is kept.
  void Reset();

  // Feedback due at `now_ms`: the 16-bit sequence numbers to NACK now (when nack is on) and whether to
  // send a PLI. Marks them sent. Returns true when there is anything to send.
  bool Poll(int64_t now_ms, std::vector<uint16_t>* nacks, bool* pli);
  // The earliest time Poll() may return something new; -1 when nothing is pending.
  int64_t NextDeadlineMs() const;

  bool pli_pending() const { return pli_pending_; }
  LossControllerStats stats() const {
    LossControllerStats s = stats_;
    s.nack_list = missing_.size();
    return s;
  }

 private:
  struct Missing {
    int64_t next_send_ms;
    int retries;
  };
  LossControllerOptions o_;
  std::map<int64_t, Missing> missing_;  // unwrapped seq -> NACK state
  bool has_highest_ = false;
  int64_t highest_ = 0;
  bool pli_pending_ = false;
  int64_t last_pli_ms_ = 0;
  bool has_last_pli_ = false;
  LossControllerStats stats_;
};

}  // namespace sw::video
