// AudioSender: PCM writes of any size and rate -> bounded 48 kHz ring -> Opus frames -> RTP packets, paced by
// pull(now) on the caller's monotonic clock. RTP timestamps come from sample counts (one frame per slot),
// never from the wall clock. Pure C++17, not thread-safe (owned by the JS thread).
//
// Pacing: slot k is due at start + k * frameMs. pull(now) sends every due slot, at most kMaxBurst per call;
// when more are due (the caller stalled), the rest go out in the next calls, kMaxBurst each, until the stream
// is back on the grid. So a stall of the JS thread is caught up within a few ticks instead of staying in the
// stream as delay: with the older behaviour (skip the overdue slots, send the audio later) every stall added
// its length to a live source's delay for good (an echo bot under load drifted by seconds). The receiver gets
// the late packets as a burst, which a browser's jitter buffer plays out by time-stretching, without losing
// audio. Only a stall longer than kMaxCatchUpMs skips the oldest slots: no packet and no audio for them, the
// RTP timestamp still advances (consecutive sequence numbers), a pause to the receiver. (The JS
// AudioOutputTrack drops the audio that pause would delay for good beyond its maxStallDelayMs.)
//
// Encoding on a worker thread (deferred mode): pull() splits each slot into the part that must happen on
// the caller's thread at the slot's time (take the frame from the ring, speaking transitions, played-out
// cursor) and the costly part (Opus encode + RTP packetization, ~40-80 us per 20 ms frame), which lives in
// AudioEncodeStage. In the default mode pull() runs the stage inline; in deferred mode it hands the slots
// out as an EncodeBatch (takeBatch()) for the caller to run through stage() elsewhere, one batch at a time,
// in order (the binding runs them on its worker lane). Both modes produce the same bytes for the same
// input; the stage's counters are atomics, so stats() may be read while a worker runs it.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/audio/opus_codec.h"
#include "core/audio/resampler.h"

namespace sw {
namespace audio {

struct AudioSenderOptions {
  int sampleRate = 24000;  // input PCM rate, Hz
  int channels = 1;        // input channels, 1 or 2
  uint32_t ssrc = 0;
  int payloadType = 111;
  int bitrate = 32000;  // bit/s
  int complexity = 5;
  bool fec = true;
  bool dtx = false;         // Opus DTX for silence (nothing sent while in DTX)
  int frameMs = 20;         // 10 or 20
  int capacityMs = 2000;    // ring bound (48 kHz samples after resampling)
  bool autoSilence = true;  // encode silence when the ring is empty (else send nothing)
  int encodeChannels = 1;   // 1 or 2
  int midExtensionId = 0;   // 1..14 to add the sdes:mid one-byte header extension, 0 for none
  std::string mid;          // 1..16 bytes when midExtensionId != 0
  int packetLossPercent = 0;
  int resampleQuality = kDefaultResampleQuality;
  uint16_t initialSequence = 0;   // set by the caller from a random source
  uint32_t initialTimestamp = 0;  // idem
};

/** An on-the-wire speaking transition, at the slot time it happened. */
struct SpeakingTransition {
  bool speaking;
  double atMs;         // slot due time (caller clock)
  double playedOutMs;  // played-out cursor at that moment
};

struct AudioSenderStats {
  uint64_t packetsSent = 0;
  uint64_t audioPackets = 0;           // packets carrying written audio
  uint64_t silencePackets = 0;         // auto-silence packets
  uint64_t dtxSlots = 0;               // slots not sent because the encoder was in DTX
  uint64_t skippedSlots = 0;           // slots skipped after a stall of over kMaxCatchUpMs
  uint64_t lateSlots = 0;              // slots deferred to a later pull() to catch up after a stall
  uint64_t droppedOnWriteSamples = 0;  // input samples (per channel) refused because the ring was full
  uint64_t encodeErrors = 0;
  uint64_t ringBytes = 0;  // storage the ring holds now (grows with the queued audio, freed once drained)
};

/** One slot handed from the pacing side (pull) to the encode side (AudioEncodeStage). */
struct SlotFrame {
  std::vector<int16_t> pcm;  // frameSamples x encodeChannels at 48 kHz; empty when !encode
  double atMs = 0;           // the slot's due time on the caller's clock
  uint64_t index = 0;        // slot number since the first pull (skipped slots count): sets the timestamp
  bool audio = false;        // carries written audio (else silence)
  bool encode = false;       // false: nothing is sent for this slot (no audio and autoSilence off)
};

/** RTP fields and encoder settings as of the pull() that produced a batch (applied before its slots). */
struct EncodeSettings {
  uint32_t ssrc = 0;
  int payloadType = 111;
  int midExtensionId = 0;
  std::string mid;
  int bitrate = 32000;
  int packetLossPercent = 0;
};

struct EncodeBatch {
  std::vector<SlotFrame> slots;
  EncodeSettings settings;
};

/** The RTP packets of one batch, back to back in `bytes`. */
struct PacketBatch {
  std::vector<uint8_t> bytes;
  std::vector<size_t> offsets, lens;
  std::vector<double> atMs;  // due time of the slot each packet belongs to
  void clear() {
    bytes.clear();
    offsets.clear();
    lens.clear();
    atMs.clear();
  }
  size_t size() const { return lens.size(); }
};

/**
 * Opus encoder + RTP packetizer state (sequence number, timestamp, marker). Used by one thread at a time:
 * the JS thread (inline mode) or the owner's worker lane (deferred mode, whose strand serializes batches).
 * Counters are atomics so the JS thread may read them while a worker runs the stage.
 */
class AudioEncodeStage {
 public:
  /** Throws std::invalid_argument on a bad option (the options were validated by AudioSender). */
  explicit AudioEncodeStage(const AudioSenderOptions& o);
  /** Encodes and packetizes every slot of `b` in order, appending the packets to `out`. */
  void run(const EncodeBatch& b, PacketBatch* out);
  void run(const SlotFrame* slots, size_t count, const EncodeSettings& settings, PacketBatch* out);

  struct Counters {
    std::atomic<uint64_t> packetsSent{0};
    std::atomic<uint64_t> audioPackets{0};
    std::atomic<uint64_t> silencePackets{0};
    std::atomic<uint64_t> dtxSlots{0};
    std::atomic<uint64_t> encodeErrors{0};
    std::atomic<uint32_t> nextSequence{0};
    std::atomic<uint32_t> nextTimestamp{0};
  };
  const Counters& counters() const { return c_; }

 private:
  void emit(const EncodeSettings& st, const uint8_t* payload, size_t len, bool marker, double atMs,
            PacketBatch* out);

  std::unique_ptr<OpusEncoder> encoder_;
  bool dtx_;
  size_t frameSamples_;
  std::vector<uint8_t> opus_;
  uint16_t seq_;
  uint32_t ts_;
  uint32_t initialTs_;
  uint64_t nextIndex_ = 0;
  bool started_ = false;
  uint32_t lastSsrc_;
  int bitrate_;
  int loss_;
  bool markerNext_ = true;  // first packet, or first after slots that sent nothing
  bool lastSlotAudio_ = false;
  // Digital silence (see run()): consecutive silent slots so far, and the slot counts of the hangover
  // (encoded as usual) and of the DTX refresh cadence.
  uint64_t silentRun_ = 0;
  uint64_t hangoverSlots_;
  uint64_t refreshSlots_;
  uint8_t silenceToc_;
  Counters c_;
};

class AudioSender {
 public:
  static constexpr int kMaxBurst =
      3;  // slots sent per pull() at most; more due = caught up in the next pulls
  static constexpr int kMaxCatchUpMs = 1000;        // behind the grid by more: the oldest slots are skipped
  static constexpr size_t kClearFadeSamples = 480;  // clear() fades the next 10 ms out instead of cutting
  // Ring storage kept once the ring drains: up to 1 s of 48 kHz stereo (192 KB). Above it (after a long
  // utterance was queued) the storage is freed, so a sender's memory follows what is queued, not its
  // capacityMs (600 s, 115 MB of stereo, at the maximum).
  static constexpr size_t kKeepRingBytes = 48000 * 2 * sizeof(int16_t);

  /** Throws std::invalid_argument on a bad option. */
  explicit AudioSender(const AudioSenderOptions& o);

  /** Accepts up to capacity; returns input frames (samples per channel) accepted. */
  size_t write(const int16_t* pcm, size_t frames);
  /**
   * Builds the packets due at nowMs (clears the previous batch); read them with packetCount()/packet().
   * In deferred mode it returns 0 and leaves the due slots for takeBatch().
   */
  size_t pull(double nowMs);
  size_t packetCount() const { return out_.size(); }
  const uint8_t* packet(size_t i) const { return out_.bytes.data() + out_.offsets[i]; }
  size_t packetLen(size_t i) const { return out_.lens[i]; }
  double packetAtMs(size_t i) const { return out_.atMs[i]; }

  /** Deferred mode: set once, before the first pull(). */
  void setDeferred(bool deferred) { deferred_ = deferred; }
  bool deferred() const { return deferred_; }
  /** Deferred mode: moves out the slots of the last pull(); false (and `out` untouched) when there were none.
   */
  bool takeBatch(EncodeBatch* out);
  /** The encode side, shared with whoever runs the batches (it may outlive this sender). */
  const std::shared_ptr<AudioEncodeStage>& stage() const { return stage_; }
  /** Transitions recorded by the last pull(). */
  const std::vector<SpeakingTransition>& transitions() const { return transitions_; }

  /** Drops queued audio except a 10 ms fade-out; returns the ms dropped. Effective within one packet. */
  double clear();
  void setSsrc(uint32_t ssrc);
  void setPayloadType(int pt);
  /** id 0 removes the extension. Throws std::invalid_argument on a bad id or mid. */
  void setMidExtension(int id, const std::string& mid);
  /** Take effect from the next slot (applied by the stage, on whichever thread runs it). */
  void setPacketLossPercent(int percent) { settings_.packetLossPercent = percent; }
  void setBitrate(int bitrate) { settings_.bitrate = bitrate; }

  /** Written audio not yet sent (including the few samples inside the resampler's filter), ms. */
  double queuedMs() const { return realQueued() / 48.0; }
  double playedOutMs() const { return static_cast<double>(playedOut_) / 48.0; }
  bool speaking() const { return speaking_; }
  /** Of the encode side: in deferred mode, as of the last batch the stage finished. */
  uint16_t nextSequence() const { return static_cast<uint16_t>(stage_->counters().nextSequence.load()); }
  uint32_t nextTimestamp() const { return stage_->counters().nextTimestamp.load(); }
  AudioSenderStats stats() const;
  const AudioSenderOptions& options() const { return o_; }

 private:
  PcmFifo& ring() { return resampler_->fifo(); }
  const PcmFifo& ring() const { return resampler_->fifo(); }
  void slot(double atMs);
  double realQueued() const { return std::max(0.0, expectedOut_ - consumedOut_); }
  void flushResampler();

  AudioSenderOptions o_;
  std::unique_ptr<Resampler> resampler_;  // input -> 48 kHz, encodeChannels; its FIFO is the ring
  std::shared_ptr<AudioEncodeStage> stage_;
  EncodeSettings settings_;  // current RTP fields and encoder settings, snapshotted into each batch
  EncodeBatch batch_;        // the slots of the current pull() (inline: reused, the first slotsUsed_)
  size_t slotsUsed_ = 0;
  PacketBatch out_;  // inline mode: the packets of the last pull()
  bool deferred_ = false;
  size_t frameSamples_;     // per channel at 48 kHz
  size_t capacitySamples_;  // per channel at 48 kHz
  std::vector<SpeakingTransition> transitions_;
  bool started_ = false;
  double nextSlotMs_ = 0;
  uint64_t slotIndex_ = 0;  // next slot's number (SlotFrame::index)
  bool lastSlotAudio_ = false;
  bool speaking_ = false;
  uint64_t playedOut_ = 0;  // real (written) samples per channel sent, 48 kHz
  // Real audio accounting at 48 kHz: output the written input amounts to vs output taken from the ring.
  // The ring can also hold zeros pushed in to flush the resampler's tail; these are not real audio.
  double expectedOut_ = 0;
  double consumedOut_ = 0;
  bool flushed_ = true;          // nothing written since the last resampler flush
  bool wroteSinceSlot_ = false;  // write() called since the last slot
  std::vector<int16_t> zeros_;
  std::vector<int16_t> fade_;
  AudioSenderStats stats_;
};

}  // namespace audio
}  // namespace sw
