// Streaming sample-rate and channel-layout converter on speexdsp, with an output FIFO so callers can take
// exact, fixed-size chunks (never an empty or over-long one). Pure C++17, not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

struct SpeexResamplerState_;

namespace sw {
namespace audio {

/** Default speexdsp quality (0..10). 4 is speexdsp's own default: ~10 us per 20 ms 48k->16k mono here. */
constexpr int kDefaultResampleQuality = 4;

/** Interleaved int16 FIFO of whole sample frames (one sample per channel), growing on demand. */
class PcmFifo {
 public:
  explicit PcmFifo(int channels = 1) : channels_(channels) {}
  void setChannels(int channels) {
    channels_ = channels;
    clear();
  }
  int channels() const { return channels_; }
  /** Frames (samples per channel) buffered. */
  size_t frames() const { return (buf_.size() - head_) / static_cast<size_t>(channels_); }
  /** Reserves room for `frames` more frames and returns where to write them; commit() makes them visible. */
  int16_t* prepare(size_t frames);
  void commit(size_t frames) {
    buf_.resize(buf_.size() - reserved_ + frames * channels_);
    reserved_ = 0;
  }
  void append(const int16_t* pcm, size_t frames);
  void appendSilence(size_t frames);
  /** Copies min(frames, available) frames to out and removes them; returns the count. */
  size_t read(int16_t* out, size_t frames);
  /** Drops up to `frames` frames from the front; returns the count dropped. */
  size_t drop(size_t frames);
  const int16_t* data() const { return buf_.data() + head_; }
  void clear() {
    buf_.clear();
    head_ = 0;
    reserved_ = 0;
  }
  void reserve(size_t frames) { buf_.reserve(frames * channels_); }
  /** Bytes of storage currently allocated (the vector's capacity), whatever is buffered. */
  size_t allocatedBytes() const { return buf_.capacity() * sizeof(int16_t); }
  /** Frees the storage; only when nothing is buffered (no-op otherwise). */
  void release() {
    if (frames() != 0 || reserved_ != 0) return;
    std::vector<int16_t>().swap(buf_);
    head_ = 0;
  }

 private:
  void compact();
  std::vector<int16_t> buf_;
  size_t head_ = 0;
  size_t reserved_ = 0;
  int channels_;
};

/**
 * Any rate to any rate, 1/2 channels to 1/2 channels (stereo->mono is (L+R)/2, mono->stereo duplicates).
 * Equal rates skip speexdsp entirely. Output accumulates in a FIFO; read whole frames of `frameSamples`.
 */
class Resampler {
 public:
  /** Throws std::invalid_argument on rates outside 1000..384000, channels outside 1..2, quality outside
   * 0..10. */
  Resampler(int inRate, int outRate, int inChannels, int outChannels, int quality = kDefaultResampleQuality);
  ~Resampler();
  Resampler(const Resampler&) = delete;
  Resampler& operator=(const Resampler&) = delete;

  int inRate() const { return inRate_; }
  int outRate() const { return outRate_; }
  int inChannels() const { return inChannels_; }
  int outChannels() const { return outChannels_; }
  int quality() const { return quality_; }
  /** Output latency of the filter in output samples (0 when rates are equal). */
  int latencySamples() const;

  /** Converts `frames` interleaved input frames; the result is appended to fifo(). */
  void write(const int16_t* in, size_t frames);
  /** Converted frames waiting to be read. */
  PcmFifo& fifo() { return fifo_; }
  /** Clears filter memory and the FIFO (after a discontinuity). */
  void reset();

 private:
  SpeexResamplerState_* st_ = nullptr;
  int inRate_, outRate_, inChannels_, outChannels_, quality_;
  int workChannels_;          // channel count the filter runs at: min(in, out)
  std::vector<int16_t> mix_;  // input after downmix
  std::vector<int16_t> res_;  // filter output before upmix
  PcmFifo fifo_;
};

}  // namespace audio
}  // namespace sw
