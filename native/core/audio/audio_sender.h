// AudioSender: PCM writes of any size and rate -> bounded 48 kHz ring -> Opus frames -> RTP packets, paced by
// pull(now) on the caller's monotonic clock. RTP timestamps come from sample counts (one frame per slot),
// never from the wall clock. Pure C++17, not thread-safe (owned by the JS thread).
//
// Pacing: slot k is due at start + k * frameMs. pull(now) sends every due slot; when more than kMaxBurst
// slots are due (the caller stalled), the older ones are skipped: no packet and no audio is consumed for
// them, but the RTP timestamp still advances by their samples (sequence numbers do not), so the receiver
// sees a timestamp gap with consecutive sequence numbers, i.e. a transmission pause, not loss and not a
// burst. The queued audio is simply sent later (a stall delays speech, it never drops it).
#pragma once

#include <algorithm>
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
  uint64_t skippedSlots = 0;           // slots skipped after a stall
  uint64_t droppedOnWriteSamples = 0;  // input samples (per channel) refused because the ring was full
  uint64_t encodeErrors = 0;
};

class AudioSender {
 public:
  static constexpr int kMaxBurst = 3;  // slots sent back to back at most; more due = a stall, skip
  static constexpr size_t kClearFadeSamples = 480;  // clear() fades the next 10 ms out instead of cutting

  /** Throws std::invalid_argument on a bad option. */
  explicit AudioSender(const AudioSenderOptions& o);

  /** Accepts up to capacity; returns input frames (samples per channel) accepted. */
  size_t write(const int16_t* pcm, size_t frames);
  /** Builds the packets due at nowMs (clears the previous batch); read them with packetCount()/packet(). */
  size_t pull(double nowMs);
  size_t packetCount() const { return lens_.size(); }
  const uint8_t* packet(size_t i) const { return bytes_.data() + offsets_[i]; }
  size_t packetLen(size_t i) const { return lens_[i]; }
  /** Transitions recorded by the last pull(). */
  const std::vector<SpeakingTransition>& transitions() const { return transitions_; }

  /** Drops queued audio except a 10 ms fade-out; returns the ms dropped. Effective within one packet. */
  double clear();
  void setSsrc(uint32_t ssrc);
  void setPayloadType(int pt);
  /** id 0 removes the extension. Throws std::invalid_argument on a bad id or mid. */
  void setMidExtension(int id, const std::string& mid);
  void setPacketLossPercent(int percent) { encoder_->setPacketLossPercent(percent); }
  void setBitrate(int bitrate) { encoder_->setBitrate(bitrate); }

  /** Written audio not yet sent (including the few samples inside the resampler's filter), ms. */
  double queuedMs() const { return realQueued() / 48.0; }
  double playedOutMs() const { return static_cast<double>(playedOut_) / 48.0; }
  bool speaking() const { return speaking_; }
  uint16_t nextSequence() const { return seq_; }
  uint32_t nextTimestamp() const { return ts_; }
  const AudioSenderStats& stats() const { return stats_; }
  const AudioSenderOptions& options() const { return o_; }

 private:
  PcmFifo& ring() { return resampler_->fifo(); }
  const PcmFifo& ring() const { return resampler_->fifo(); }
  void slot(double atMs);
  double realQueued() const { return std::max(0.0, expectedOut_ - consumedOut_); }
  void flushResampler();
  void emit(const uint8_t* payload, size_t len, bool marker);

  AudioSenderOptions o_;
  std::unique_ptr<Resampler> resampler_;  // input -> 48 kHz, encodeChannels; its FIFO is the ring
  std::unique_ptr<OpusEncoder> encoder_;
  size_t frameSamples_;     // per channel at 48 kHz
  size_t capacitySamples_;  // per channel at 48 kHz
  std::vector<int16_t> frame_;
  std::vector<uint8_t> opus_;
  std::vector<uint8_t> bytes_;
  std::vector<size_t> offsets_, lens_;
  std::vector<SpeakingTransition> transitions_;
  uint16_t seq_;
  uint32_t ts_;
  bool started_ = false;
  double nextSlotMs_ = 0;
  bool markerNext_ = true;  // first packet, or first after slots that sent nothing
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
