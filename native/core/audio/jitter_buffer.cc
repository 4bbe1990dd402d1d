#include "core/audio/jitter_buffer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "core/audio/opus_codec.h"

namespace sw {
namespace audio {

namespace {
constexpr double kSamplesPerMs = kOpusRtpClockRate / 1000.0;  // 48 RTP ticks per ms
constexpr uint32_t kConcealStep = 960;                        // 20 ms per concealment step
constexpr int64_t kMaxSeqJump = 3000;                         // beyond this a "gap" is a stream restart
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kTargetMarginMs = 5;      // added to the measured delay percentile
constexpr double kClockJumpMarginMs = 40;  // later than maxDelayMs + this behind the cursor: clock moved
// Caller times beyond this (ms, either sign) are refused: it keeps every derived bucket index and sample
// count far inside int64 (the JS layer enforces the same bound).
constexpr double kMaxAbsTimeMs = 1e15;

// Index of an anchor bucket in a ring of `n`: a floor modulo, since bucket numbers are negative on a caller
// clock before its epoch (C++ % keeps the dividend's sign, which would index before the array).
size_t RingIndex(int64_t bucket, int64_t n) { return static_cast<size_t>(((bucket % n) + n) % n); }

uint32_t RoundUpTo2p5ms(uint32_t samples) {
  const uint32_t q = 120;  // 2.5 ms at 48 kHz: the granularity libopus accepts for PLC/FEC
  uint32_t r = (samples + q - 1) / q * q;
  return std::min<uint32_t>(std::max<uint32_t>(r, q), kOpusMaxPacketSamples48k);
}
}  // namespace

JitterBuffer::JitterBuffer(const JitterBufferOptions& o) : o_(o), slots_(kCapacity) {
  if (!(o.minDelayMs >= 0) || !(o.maxDelayMs >= 0) || o.minDelayMs > 10000 || o.maxDelayMs > 10000) {
    throw std::invalid_argument("minDelayMs/maxDelayMs must be 0..10000");
  }
  if (o.minDelayMs > o.maxDelayMs) throw std::invalid_argument("minDelayMs must be <= maxDelayMs");
  if (!(o.maxConcealMs >= 20) || o.maxConcealMs > 60000)
    throw std::invalid_argument("maxConcealMs must be 20..60000");
  reset();
}

void JitterBuffer::reset() {
  for (auto& s : slots_) s.used = false;
  histSeq_.fill(-1);
  hist_.fill(Hist::kNone);
  count_ = 0;
  started_ = false;
  pendingConcealMs_ = 0;
  concealRunMs_ = 0;
  anchorMin_.fill(kInf);
  anchor_ = 0;
  anchorBucket_ = 0;
  delayCount_ = delayPos_ = 0;
  target_ = o_.minDelayMs;
  haveTransit_ = false;
  synthBudget_ = synthCap();
  budgetTimeValid_ = false;
  stats_.buffered = 0;
  stats_.targetDelayMs = target_;
}

void JitterBuffer::startStream(uint32_t ssrc, uint16_t seq, uint32_t ts) {
  // A new SSRC or sequence space must not refill the synthesis budget (churning SSRCs would mint tokens).
  const int64_t budget = synthBudget_;
  const double budgetTime = budgetTimeMs_;
  const bool budgetValid = budgetTimeValid_;
  reset();
  synthBudget_ = budget;
  budgetTimeMs_ = budgetTime;
  budgetTimeValid_ = budgetValid;
  started_ = true;
  ssrc_ = ssrc;
  highestSeq_ = seq;
  refTs_ = ts;
  nextSeq_ = seq;
  cursor_ = ts;
  lastReleasedSeq_ = -1;
  lastHandledSeq_ = static_cast<int64_t>(seq) - 1;
  lateStreak_ = 0;
  fecSeq_ = -1;
}

const JitterBufferStats& JitterBuffer::stats() const {
  stats_.buffered = count_;
  stats_.targetDelayMs = waitMs();
  return stats_;
}

int64_t JitterBuffer::synthCap() const {
  return static_cast<int64_t>((o_.maxConcealMs + o_.maxDelayMs) * kSamplesPerMs);
}

void JitterBuffer::refillBudget(double nowMs) {
  // Tokens accrue at the real-time rate on the caller's clock, which never counts backwards here (so a
  // clock going back and forth cannot mint them); the cap allows one full concealment run plus a deadline.
  if (budgetTimeValid_ && nowMs > budgetTimeMs_) {
    const double add = (nowMs - budgetTimeMs_) * kSamplesPerMs;
    synthBudget_ = static_cast<int64_t>(
        std::min(static_cast<double>(synthBudget_) + add, static_cast<double>(synthCap())));
  }
  if (!budgetTimeValid_ || nowMs > budgetTimeMs_) budgetTimeMs_ = nowMs;
  budgetTimeValid_ = true;
}

double JitterBuffer::waitMs() const {
  // While the sender includes in-band FEC, a lost packet is best recovered from the packet after it, so
  // wait one packet longer for that one to arrive (within maxDelayMs).
  const bool fecActive = fecSeq_ >= 0 && highestSeq_ - fecSeq_ < kFecMemoryPackets;
  const double extra = fecActive ? static_cast<double>(lastSamples_) / kSamplesPerMs : 0.0;
  return std::max(target_, std::min(target_ + extra, o_.maxDelayMs));
}

double JitterBuffer::deadline() const {
  return anchor_ + static_cast<double>(cursor_) / kSamplesPerMs + waitMs();
}

double JitterBuffer::nextDeadlineMs() const {
  if (!started_) return kInf;
  if (count_ == 0 && concealRunMs_ >= o_.maxConcealMs) return kInf;
  double d = deadline();
  if (count_ == 0 && budgetTimeValid_ && synthBudget_ < static_cast<int64_t>(kConcealStep)) {
    // drain() waits for the synthesis budget too: report when it allows the next step, not a past deadline
    // a timer would spin on.
    d = std::max(d, budgetTimeMs_ + static_cast<double>(kConcealStep - synthBudget_) / kSamplesPerMs);
  }
  return d;
}

void JitterBuffer::markHistory(int64_t seq, Hist h) {
  const size_t i = static_cast<size_t>(seq) % kHistory;
  histSeq_[i] = seq;
  hist_[i] = h;
}

void JitterBuffer::resolvePending(bool lostSeqs) {
  if (pendingConcealMs_ <= 0) return;
  if (lostSeqs) {
    stats_.concealedMs += pendingConcealMs_;
  } else {
    stats_.silenceMs += pendingConcealMs_;
  }
  pendingConcealMs_ = 0;
}

void JitterBuffer::observeArrival(int64_t ts, double arrivalMs) {
  const double transit = arrivalMs - static_cast<double>(ts) / kSamplesPerMs;
  if (haveTransit_) {
    const double d = std::fabs(transit - lastTransit_);
    stats_.jitterMs += (d - stats_.jitterMs) / 16.0;  // RFC 3550 section 6.4.1
  }
  lastTransit_ = transit;
  const int64_t bucket = static_cast<int64_t>(std::floor(arrivalMs / kAnchorBucketMs));
  if (!haveTransit_) {
    anchorBucket_ = bucket;
  } else if (bucket > anchorBucket_) {
    const int64_t steps = std::min<int64_t>(bucket - anchorBucket_, kAnchorBuckets);
    for (int64_t i = 1; i <= steps; ++i) anchorMin_[RingIndex(anchorBucket_ + i, kAnchorBuckets)] = kInf;
    anchorBucket_ = bucket;
  }
  haveTransit_ = true;
  double& m = anchorMin_[RingIndex(anchorBucket_, kAnchorBuckets)];
  m = std::min(m, transit);
  anchor_ = *std::min_element(anchorMin_.begin(), anchorMin_.end());

  delays_[delayPos_] = transit - anchor_;
  delayPos_ = (delayPos_ + 1) % kDelayWindow;
  delayCount_ = std::min(delayCount_ + 1, kDelayWindow);
  std::array<double, kDelayWindow> tmp;
  std::copy(delays_.begin(), delays_.begin() + static_cast<std::ptrdiff_t>(delayCount_), tmp.begin());
  // 98th percentile plus a margin of one poll period: the deadline only matters when a gap appears, and
  // waiting a little longer for a late packet is much cheaper (a short output stall, caught up at once)
  // than concealing it and then dropping it.
  const size_t k = static_cast<size_t>(std::ceil(0.98 * static_cast<double>(delayCount_))) - 1;
  std::nth_element(tmp.begin(), tmp.begin() + static_cast<std::ptrdiff_t>(k),
                   tmp.begin() + static_cast<std::ptrdiff_t>(delayCount_));
  target_ = std::min(std::max(tmp[k] + kTargetMarginMs, o_.minDelayMs), o_.maxDelayMs);
}

PushResult JitterBuffer::push(const uint8_t* payload, size_t len, uint32_t ssrc, uint16_t seq,
                              uint32_t timestamp, double arrivalMs, JitterSink& sink) {
  if (payload == nullptr || len == 0 || len > kMaxPayload || !(std::fabs(arrivalMs) <= kMaxAbsTimeMs)) {
    stats_.invalid++;
    return PushResult::kInvalid;
  }
  const int n = OpusPacketSamples(payload, len, kOpusRtpClockRate);
  const int fs = OpusPacketFrameSamples(payload, len, kOpusRtpClockRate);
  if (n <= 0 || n > kOpusMaxPacketSamples48k || fs <= 0) {
    stats_.invalid++;
    return PushResult::kInvalid;
  }
  if (!started_ || ssrc != ssrc_) {
    if (started_) {
      stats_.resets++;
      JitterEvent e{JitterEvent::Kind::kReset};
      sink.onJitterEvent(e);
    }
    startStream(ssrc, seq, timestamp);
  }
  int64_t ext =
      highestSeq_ + static_cast<int16_t>(static_cast<uint16_t>(seq - static_cast<uint16_t>(highestSeq_)));
  if (ext - nextSeq_ > kMaxSeqJump || nextSeq_ - ext > kMaxSeqJump) {
    // Same SSRC, unrelated sequence space: the sender restarted. Start over rather than conceal a gap.
    stats_.resets++;
    JitterEvent e{JitterEvent::Kind::kReset};
    sink.onJitterEvent(e);
    startStream(ssrc, seq, timestamp);
    ext = seq;
  }
  const int64_t tsExt =
      refTs_ + static_cast<int32_t>(static_cast<uint32_t>(timestamp - static_cast<uint32_t>(refTs_)));

  if (ext < nextSeq_) {
    const size_t i = static_cast<size_t>(ext) % kHistory;
    if (histSeq_[i] == ext && hist_[i] == Hist::kReleased) {
      stats_.duplicates++;
      return PushResult::kDuplicate;
    }
    stats_.lateDropped++;
    observeArrival(tsExt, arrivalMs);
    return PushResult::kLate;
  }
  if (ext >= nextSeq_ + static_cast<int64_t>(kCapacity)) {
    // Too far ahead to hold: give up on everything older (a huge burst loss) and restart the timeline here.
    stats_.lost += static_cast<uint64_t>(ext - nextSeq_) - count_;
    stats_.lateDropped += count_;
    for (auto& s : slots_) s.used = false;
    count_ = 0;
    resolvePending(true);
    nextSeq_ = ext;
    cursor_ = tsExt;
  }
  Slot& s = slots_[static_cast<size_t>(ext) % kCapacity];
  if (s.used && s.seq == ext) {
    stats_.duplicates++;
    return PushResult::kDuplicate;
  }
  s.used = true;
  s.seq = ext;
  s.rawSeq = seq;
  s.ts = tsExt;
  s.samples = static_cast<uint32_t>(n);
  s.frameSamples = static_cast<uint32_t>(fs);
  s.arrivalMs = arrivalMs;
  s.hasFec = OpusPacketHasFec(payload, len);
  if (s.hasFec) fecSeq_ = std::max(fecSeq_, ext);
  s.len = static_cast<uint16_t>(len);
  std::copy(payload, payload + len, s.data.begin());
  count_++;
  if (ext > highestSeq_) {
    highestSeq_ = ext;
    refTs_ = tsExt;
  }
  stats_.received++;
  observeArrival(tsExt, arrivalMs);
  refillBudget(arrivalMs);
  drain(arrivalMs, sink);
  return PushResult::kAccepted;
}

void JitterBuffer::poll(double nowMs, JitterSink& sink) {
  if (!started_ || !(std::fabs(nowMs) <= kMaxAbsTimeMs)) return;
  refillBudget(nowMs);
  drain(nowMs, sink);
}

const JitterBuffer::Slot* JitterBuffer::firstBuffered() const {
  if (count_ == 0) return nullptr;
  for (size_t i = 1; i < kCapacity; ++i) {
    const Slot& s = slots_[static_cast<size_t>(nextSeq_ + static_cast<int64_t>(i)) % kCapacity];
    if (s.used && s.seq == nextSeq_ + static_cast<int64_t>(i)) return &s;
  }
  return nullptr;
}

void JitterBuffer::emitConceal(JitterEvent::Kind kind, uint32_t samples, JitterSink& sink,
                               const Slot* fecFrom) {
  JitterEvent e{kind};
  e.samples = samples;
  e.decodeSamples = RoundUpTo2p5ms(samples);
  e.timestamp = cursor_;
  if (fecFrom != nullptr) {
    e.data = fecFrom->data.data();
    e.len = fecFrom->len;
  }
  sink.onJitterEvent(e);
  cursor_ += samples;
  synthBudget_ -= samples;
}

void JitterBuffer::drain(double nowMs, JitterSink& sink) {
  const int64_t maxConceal = static_cast<int64_t>(o_.maxConcealMs * kSamplesPerMs);
  for (;;) {
    Slot& s = slots_[static_cast<size_t>(nextSeq_) % kCapacity];
    if (s.used && s.seq == nextSeq_) {
      release(s, nowMs, sink);
      continue;
    }
    const Slot* nb = firstBuffered();
    if (nb != nullptr) {
      const int64_t gap = nb->ts - cursor_;
      if (gap <= 0 || gap > maxConceal) {
        // Its start is already covered by concealment (or it is a discontinuity): the sequence numbers
        // before it are lost; restart the timeline at it when it jumped too far.
        for (int64_t q = nextSeq_; q < nb->seq; ++q) markHistory(q, Hist::kMissed);
        stats_.lost += static_cast<uint64_t>(nb->seq - nextSeq_);
        resolvePending(true);
        if (gap > maxConceal) cursor_ = nb->ts;
        nextSeq_ = nb->seq;
        continue;
      }
      if (nowMs < deadline()) break;
      if (synthBudget_ < std::min<int64_t>(gap, kConcealStep)) {
        // More concealment than real time allows (timestamps racing ahead of the arrival clock, e.g. a
        // hostile sender): treat the gap as a discontinuity instead of synthesizing it.
        for (int64_t q = nextSeq_; q < nb->seq; ++q) markHistory(q, Hist::kMissed);
        stats_.lost += static_cast<uint64_t>(nb->seq - nextSeq_);
        resolvePending(true);
        cursor_ = nb->ts;
        nextSeq_ = nb->seq;
        continue;
      }
      const uint32_t g = static_cast<uint32_t>(gap);
      const uint32_t fd = nb->frameSamples;
      if (nb->hasFec && g >= fd && g - fd <= kConcealStep) {
        // The next packet's LBRR covers its predecessor; libopus PLCs whatever precedes that.
        stats_.fecRecovered++;
        stats_.concealedMs += g / kSamplesPerMs;
        emitConceal(JitterEvent::Kind::kFec, g, sink, nb);
      } else {
        uint32_t step = (nb->hasFec && g > fd) ? g - fd : g;
        step = std::min(step, kConcealStep);
        stats_.concealedMs += step / kSamplesPerMs;
        emitConceal(JitterEvent::Kind::kPlc, step, sink, nullptr);
      }
      concealRunMs_ = 0;
      continue;
    }
    // Nothing buffered: loss or DTX, we cannot tell yet. Keep the output running until maxConcealMs.
    if (nowMs < deadline() || concealRunMs_ >= o_.maxConcealMs || synthBudget_ < kConcealStep) break;
    pendingConcealMs_ += kConcealStep / kSamplesPerMs;
    concealRunMs_ += kConcealStep / kSamplesPerMs;
    emitConceal(JitterEvent::Kind::kPlc, kConcealStep, sink, nullptr);
  }
}

void JitterBuffer::release(Slot& s, double nowMs, JitterSink& sink) {
  const int64_t end = s.ts + s.samples;
  const int64_t maxConceal = static_cast<int64_t>(o_.maxConcealMs * kSamplesPerMs);
  if (end <= cursor_) {
    // Its whole slot was concealed already. One such packet is jitter beyond the deadline: drop it, since
    // playing it would add its duration of delay. But a packet far behind the cursor, or a second late one
    // in a row, means the sender's clock paused or jumped back (timestamps not advancing during a mute, a
    // restarted clock): the stream itself moved, so re-anchor on it instead of dropping everything after.
    const bool consecutive = s.seq == lastHandledSeq_ + 1;
    const int64_t behind = cursor_ - s.ts;
    const bool clockMoved =
        behind > static_cast<int64_t>((o_.maxDelayMs + kClockJumpMarginMs) * kSamplesPerMs);
    if (!(consecutive && (clockMoved || lateStreak_ >= 1)) &&
        behind <= maxConceal + 2 * static_cast<int64_t>(kSamplesPerMs * o_.maxDelayMs)) {
      resolvePending(true);
      stats_.lateDropped++;
      lateStreak_ = consecutive ? lateStreak_ + 1 : 1;
      lastHandledSeq_ = s.seq;
      markHistory(s.seq, Hist::kMissed);
      s.used = false;
      count_--;
      nextSeq_ = s.seq + 1;
      return;
    }
    resolvePending(false);
    stats_.reanchors++;
    cursor_ = s.ts;
    anchorMin_.fill(kInf);
    delayCount_ = delayPos_ = 0;
    haveTransit_ = false;
    observeArrival(s.ts, s.arrivalMs);
  }
  lateStreak_ = 0;
  if (s.ts > cursor_) {
    // Consecutive sequence number but a later timestamp: DTX or a sender-side gap, i.e. silence.
    resolvePending(false);
    int64_t gap = s.ts - cursor_;
    if (gap > maxConceal || gap > synthBudget_) {
      cursor_ = s.ts;
    } else {
      while (gap > 0) {
        const uint32_t step = static_cast<uint32_t>(std::min<int64_t>(gap, kConcealStep));
        stats_.silenceMs += step / kSamplesPerMs;
        emitConceal(JitterEvent::Kind::kSilence, step, sink, nullptr);
        gap -= step;
      }
    }
  } else {
    resolvePending(s.ts < cursor_);
  }
  JitterEvent e{JitterEvent::Kind::kPacket};
  e.data = s.data.data();
  e.len = s.len;
  e.skip = static_cast<uint32_t>(cursor_ - s.ts);
  e.samples = static_cast<uint32_t>(end - cursor_);
  e.timestamp = cursor_;
  e.seq = s.rawSeq;
  sink.onJitterEvent(e);
  cursor_ = end;
  markHistory(s.seq, Hist::kReleased);
  lastReleasedSeq_ = s.seq;
  lastHandledSeq_ = s.seq;
  lastSamples_ = s.samples;
  stats_.lastReleaseDelayMs = nowMs - s.arrivalMs;
  concealRunMs_ = 0;
  s.used = false;
  count_--;
  nextSeq_ = s.seq + 1;
}

}  // namespace audio
}  // namespace sw
