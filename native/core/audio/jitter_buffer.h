// Adaptive, clock-driven jitter buffer for one Opus RTP stream (48 kHz RTP clock).
//
// Release policy (why: a voice agent wants the lowest latency that does not break audio):
// - a packet is released the moment it is next in sequence order: no prefetch, so on a clean link the
//   buffer adds ~0 ms;
// - a gap (missing sequence number, or nothing arriving at all) is waited for only until a deadline:
//   anchor + mediaTime + targetDelay, where anchor is the minimum of (arrival - mediaTime) over the last
//   ~4 s and targetDelay is the 98th percentile (+5 ms) of the arrival delay relative to that anchor over the
//   last 100 packets, clamped to [minDelayMs, maxDelayMs], plus one packet duration (within maxDelayMs)
//   while the sender uses in-band FEC so the packet carrying the lost one's LBRR can arrive; then the gap
//   is concealed with Opus in-band FEC from the next packet when it carries LBRR, else PLC;
// - the output timeline (cursor, in RTP samples) never goes back, so a loss never leaves extra delay:
//   packets that arrive after their slot was concealed are dropped (or trimmed when partly concealed);
// - a timestamp jump with consecutive sequence numbers is DTX/silence, not loss: it is filled with decoder
//   PLC (Opus comfort noise) and counted as silence;
// - synthesized output (PLC, FEC, DTX fill) never runs ahead of real time on the caller's clock by more than
//   maxConcealMs + maxDelayMs: beyond that a gap is taken as a discontinuity (timeline jumps), since the
//   sender's timestamps alone must not make the receiver emit minutes of audio in a millisecond.
// Pure C++17, synchronous, not thread-safe. Times are caller-supplied monotonic milliseconds.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sw {
namespace audio {

/** Configuration of a JitterBuffer (all milliseconds). */
struct JitterBufferOptions {
  double minDelayMs = 20;      // lower bound of the loss deadline; >= one 20 ms packet lets FEC arrive
  double maxDelayMs = 200;     // upper bound of the loss deadline
  double maxConcealMs = 1000;  // longest run of concealment without any packet (mute/stall); then pause
};

/** Counters since construction (or reset()). */
struct JitterBufferStats {
  uint64_t received = 0;          // accepted packets (not duplicates, not invalid)
  uint64_t lost = 0;              // sequence numbers skipped because they never arrived in time
  uint64_t lateDropped = 0;       // packets that arrived after their whole slot was concealed
  uint64_t duplicates = 0;        // packets received twice
  uint64_t invalid = 0;           // unparseable Opus payloads (or larger than kMaxPayload)
  uint64_t fecRecovered = 0;      // concealment steps served by in-band FEC
  uint64_t resets = 0;            // stream restarts (SSRC change, huge sequence jump)
  uint64_t reanchors = 0;         // timeline re-anchored on a sender clock pause/jump
  double concealedMs = 0;         // PLC + FEC output for lost packets
  double silenceMs = 0;           // DTX / transmission-gap fill
  double targetDelayMs = 0;       // current loss deadline after expected arrival (incl. the FEC wait)
  double jitterMs = 0;            // RFC 3550 interarrival jitter
  double lastReleaseDelayMs = 0;  // time the last released packet spent in the buffer
  size_t buffered = 0;            // packets waiting
};

/** What the buffer asks its consumer to produce next, in order. Sample counts are at 48 kHz. */
struct JitterEvent {
  enum class Kind { kPacket, kFec, kPlc, kSilence, kReset };
  Kind kind;
  const uint8_t* data = nullptr;  // kPacket: the packet; kFec: the packet whose LBRR to decode
  size_t len = 0;
  uint32_t skip = 0;           // kPacket: leading samples already covered by concealment (drop them)
  uint32_t samples = 0;        // samples to output (after skip)
  uint32_t decodeSamples = 0;  // kFec/kPlc/kSilence: what to ask libopus for (multiple of 2.5 ms >= samples)
  int64_t timestamp = 0;       // unwrapped RTP timestamp of the first output sample
  uint16_t seq = 0;            // kPacket: RTP sequence number
};

/** Receives events synchronously from push()/poll(). */
class JitterSink {
 public:
  virtual ~JitterSink() = default;
  virtual void onJitterEvent(const JitterEvent& e) = 0;
};

/** Result of JitterBuffer::push. */
enum class PushResult { kAccepted, kDuplicate, kLate, kInvalid };

class JitterBuffer {
 public:
  static constexpr size_t kCapacity = 64;      // packets held (1.28 s of 20 ms packets)
  static constexpr size_t kMaxPayload = 1500;  // bytes per stored payload
  static constexpr size_t kHistory = 256;      // remembered released/concealed sequence numbers

  /** Throws std::invalid_argument when the delays are negative, > 10 s or min > max. */
  explicit JitterBuffer(const JitterBufferOptions& o = {});

  /**
   * Inserts an RTP payload, releases what is in order, then conceals overdue gaps at `arrivalMs`. Times may
   * be negative; beyond +-1e15 ms (or NaN) the packet is refused as kInvalid (poll() ignores such times).
   */
  PushResult push(const uint8_t* payload, size_t len, uint32_t ssrc, uint16_t seq, uint32_t timestamp,
                  double arrivalMs, JitterSink& sink);
  /** Conceals gaps whose deadline is <= nowMs (call every 10-20 ms). */
  void poll(double nowMs, JitterSink& sink);
  /** Forgets the stream (stats are kept). */
  void reset();
  /** Deadline of the next output sample (ms, caller clock); +inf when nothing is pending. */
  double nextDeadlineMs() const;
  const JitterBufferStats& stats() const;
  const JitterBufferOptions& options() const { return o_; }

 private:
  struct Slot {
    bool used = false;
    int64_t seq = 0;
    int64_t ts = 0;
    uint32_t samples = 0;
    uint32_t frameSamples = 0;
    double arrivalMs = 0;
    bool hasFec = false;
    uint16_t len = 0;
    uint16_t rawSeq = 0;
    std::array<uint8_t, kMaxPayload> data;
  };
  enum class Hist : uint8_t { kNone, kReleased, kMissed };

  void startStream(uint32_t ssrc, uint16_t seq, uint32_t ts);
  void observeArrival(int64_t ts, double arrivalMs);
  void drain(double nowMs, JitterSink& sink);
  void release(Slot& s, double nowMs, JitterSink& sink);
  void emitConceal(JitterEvent::Kind kind, uint32_t samples, JitterSink& sink, const Slot* fecFrom);
  const Slot* firstBuffered() const;
  double deadline() const;
  double waitMs() const;
  void markHistory(int64_t seq, Hist h);
  void resolvePending(bool lostSeqs);
  int64_t synthCap() const;
  void refillBudget(double nowMs);

  JitterBufferOptions o_;
  mutable JitterBufferStats stats_;
  std::vector<Slot> slots_;
  std::array<int64_t, kHistory> histSeq_;
  std::array<Hist, kHistory> hist_;
  size_t count_ = 0;

  bool started_ = false;
  uint32_t ssrc_ = 0;
  int64_t highestSeq_ = 0;  // unwrapped
  int64_t refTs_ = 0;       // unwrapped timestamp of the highest sequence number
  int64_t nextSeq_ = 0;     // next sequence number to release
  int64_t cursor_ = 0;      // output timeline, unwrapped RTP samples: everything before it was emitted
  int64_t lastReleasedSeq_ = -1;
  int64_t lastHandledSeq_ = -1;  // last sequence number released or dropped as late
  int lateStreak_ = 0;           // consecutive late drops
  int64_t fecSeq_ = -1;          // highest sequence number seen carrying in-band FEC (LBRR)
  static constexpr int64_t kFecMemoryPackets = 50;  // FEC counts as active for this many packets
  uint32_t lastSamples_ = 960;
  double pendingConcealMs_ = 0;  // concealment emitted with nothing buffered: loss or DTX, unknown yet
  double concealRunMs_ = 0;      // concealment since the last real packet (bounded by maxConcealMs)
  // Token bucket (48 kHz samples) bounding synthesized output (PLC, FEC, DTX fill) to real time on the
  // caller's clock plus a burst of maxConcealMs + maxDelayMs: timestamps alone (which the sender controls)
  // must not make the buffer emit audio faster than real time. Without tokens a gap is a discontinuity.
  int64_t synthBudget_ = 0;
  double budgetTimeMs_ = 0;
  bool budgetTimeValid_ = false;

  // Arrival statistics.
  static constexpr int kAnchorBuckets = 8;
  static constexpr double kAnchorBucketMs = 500;
  std::array<double, kAnchorBuckets> anchorMin_;
  int64_t anchorBucket_ = 0;
  double anchor_ = 0;  // ms: min(arrival - ts/48) over the last kAnchorBuckets * kAnchorBucketMs
  static constexpr size_t kDelayWindow = 100;
  std::array<double, kDelayWindow> delays_;
  size_t delayCount_ = 0, delayPos_ = 0;
  double target_ = 0;
  double lastTransit_ = 0;
  bool haveTransit_ = false;
};

}  // namespace audio
}  // namespace sw
