// AudioReceiver: Opus RTP packets in -> jitter buffer -> decode / FEC / PLC -> (resample) -> whole PCM frames
// of exactly frameMs at the requested rate and channel count. One synchronous call per packet; poll() emits
// concealment when a loss deadline passes. Pure C++17, not thread-safe (owned by the JS thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/audio/jitter_buffer.h"
#include "core/audio/opus_codec.h"
#include "core/audio/resampler.h"

namespace sw {
namespace audio {

struct AudioReceiverOptions {
  int sampleRate = 16000;  // output rate, Hz (any 8000..192000)
  int channels = 1;        // output channels, 1 or 2
  int frameMs = 20;        // 10 or 20
  int payloadType = -1;    // only accept this RTP payload type (-1: any)
  JitterBufferOptions jitter;
  int resampleQuality = kDefaultResampleQuality;
  bool decodeAtTargetRate = true;  // decode straight at 8/12/16/24/48 kHz instead of 48 kHz + speexdsp
};

/** One output frame: numFrames * channels interleaved samples at AudioReceiver::frameData(i). */
struct ReceivedFrame {
  double ptsMs;    // frames emitted before this one * frameMs: a continuous output timeline
  bool concealed;  // contains PLC/FEC output for a lost or overdue packet
};

struct AudioReceiverStats {
  JitterBufferStats jitter;
  uint64_t framesOut = 0;
  uint64_t decodeErrors = 0;
  uint64_t rtpErrors = 0;  // malformed RTP
  uint64_t payloadTypeDropped = 0;
};

class AudioReceiver final : private JitterSink {
 public:
  /** Throws std::invalid_argument on a bad option. */
  explicit AudioReceiver(const AudioReceiverOptions& o);

  /**
   * Feeds one RTP packet (arrivalMs on the caller's monotonic clock). Clears the previous output; the frames
   * completed by this call are then available through frameCount()/frameData()/frameInfo().
   * Returns false when the packet was not usable (malformed RTP, wrong payload type, invalid Opus).
   */
  bool push(const uint8_t* packet, size_t len, double arrivalMs);
  /** Conceals overdue gaps (clears the previous output, like push()). */
  void poll(double nowMs);
  /** Forgets the stream and any partial frame (stats are kept). */
  void reset();

  size_t frameCount() const { return frames_.size(); }
  const int16_t* frameData(size_t i) const { return out_.data() + i * frameLen(); }
  const ReceivedFrame& frameInfo(size_t i) const { return frames_[i]; }
  /** Samples per channel in each frame (rate * frameMs / 1000). */
  size_t frameSamples() const { return frameSamples_; }
  size_t frameLen() const { return frameSamples_ * static_cast<size_t>(o_.channels); }
  int decodeRate() const { return decodeRate_; }
  bool resampling() const { return resampler_ != nullptr; }
  const AudioReceiverOptions& options() const { return o_; }
  AudioReceiverStats stats() const;
  /** Deadline (ms) at which poll() would next produce concealment; +inf when none is pending. */
  double nextDeadlineMs() const { return jb_.nextDeadlineMs(); }

 private:
  void onJitterEvent(const JitterEvent& e) override;
  void deliver(const int16_t* pcm, size_t samples, bool concealed);
  void cutFrames();
  size_t toDecodeRate(uint32_t samples48k) const {
    return static_cast<size_t>(static_cast<uint64_t>(samples48k) * decodeRate_ / kOpusRtpClockRate);
  }

  AudioReceiverOptions o_;
  JitterBuffer jb_;
  int decodeRate_;
  std::unique_ptr<OpusDecoder> decoder_;
  std::unique_ptr<Resampler> resampler_;
  PcmFifo direct_;            // assembly FIFO when not resampling (else resampler_->fifo())
  std::vector<int16_t> pcm_;  // one decoded packet, 120 ms max
  size_t frameSamples_;
  // Concealed sample ranges still in the FIFO, as absolute sample indices [start, end).
  std::vector<std::pair<uint64_t, uint64_t>> concealedRanges_;
  uint64_t written_ = 0;  // samples per channel ever appended to the FIFO
  uint64_t read_ = 0;     // samples per channel ever cut into frames
  std::vector<int16_t> out_;
  std::vector<ReceivedFrame> frames_;
  uint64_t framesOut_ = 0;
  uint64_t decodeErrors_ = 0;
  uint64_t rtpErrors_ = 0;
  uint64_t ptDropped_ = 0;
};

}  // namespace audio
}  // namespace sw
