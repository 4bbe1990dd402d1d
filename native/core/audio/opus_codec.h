// Opus encoder and decoder: thin RAII owners of libopus state with validated arguments.
// Pure C++17, synchronous, not thread-safe (one owner thread per instance).
#pragma once

#include <opus.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sw {
namespace audio {

/** Largest Opus packet duration: 120 ms at 48 kHz, in samples per channel. */
constexpr int kOpusMaxPacketSamples48k = 5760;
/** RTP clock rate of Opus (RFC 7587), Hz. */
constexpr int kOpusRtpClockRate = 48000;

/** True for the sample rates libopus can decode/encode at directly (8/12/16/24/48 kHz). */
bool IsOpusNativeRate(int rate);

/** Samples per channel of an Opus packet at `rate`, or a negative libopus error for a malformed packet. */
int OpusPacketSamples(const uint8_t* data, size_t len, int rate);

/** Duration of one Opus frame inside the packet (samples per channel at `rate`), negative on error. */
int OpusPacketFrameSamples(const uint8_t* data, size_t len, int rate);

/**
 * Whether the packet carries SILK in-band FEC (LBRR) for the previous packet. libopus 1.3 has no
 * opus_packet_has_lbrr(), so this reads the LBRR flag the way libwebrtc does (WebRtcOpus_PacketHasFec):
 * the LP-layer header bits are uniform-probability range-coded symbols, i.e. the top bits of frame 0.
 */
bool OpusPacketHasFec(const uint8_t* data, size_t len);

/**
 * Opus decoder. `decodeChannels` (1 or 2) is what libopus mixes the stream to (it down/up-mixes mono and
 * stereo streams itself); `outChannels` (1..8) is the interleaved layout written to the caller: channel i
 * receives decoded channel i % decodeChannels.
 */
class OpusDecoder {
 public:
  /** Throws std::invalid_argument for an unsupported rate or channel count. */
  OpusDecoder(int sampleRate, int outChannels);
  ~OpusDecoder();
  OpusDecoder(const OpusDecoder&) = delete;
  OpusDecoder& operator=(const OpusDecoder&) = delete;

  int sampleRate() const { return rate_; }
  int outChannels() const { return outChannels_; }
  /** Largest number of samples per channel one call can produce (120 ms). */
  int maxFrameSamples() const { return rate_ / 1000 * 120; }

  /**
   * Decodes one packet into `out` (interleaved, outChannels). `maxSamples` is the capacity of `out` in
   * samples per channel. Returns samples per channel or a negative libopus error code.
   */
  int decode(const uint8_t* data, size_t len, int16_t* out, int maxSamples);
  /**
   * Recovers `samples` (per channel, a multiple of 2.5 ms) of the packet preceding `data` from its in-band
   * FEC; libopus conceals the part FEC does not cover. Returns samples per channel or a negative error.
   */
  int decodeFec(const uint8_t* data, size_t len, int samples, int16_t* out);
  /** Packet loss concealment for `samples` (multiple of 2.5 ms). Returns samples or a negative error. */
  int conceal(int samples, int16_t* out);
  /** Forgets the stream state (new SSRC). */
  void reset();

 private:
  int expand(int n, int16_t* out);
  ::OpusDecoder* dec_ = nullptr;
  int rate_;
  int outChannels_;
  int decodeChannels_;
  std::vector<int16_t> scratch_;  // decodeChannels interleaved, used only when outChannels > 2
};

/** Encoder settings; everything validated by OpusEncoder's constructor. */
struct OpusEncoderOptions {
  int sampleRate = 48000;     // 8000/12000/16000/24000/48000
  int channels = 1;           // 1 or 2
  int bitrate = 32000;        // bit/s, 6000..510000
  int complexity = 5;         // 0..10
  bool fec = true;            // in-band FEC (only used by libopus when packetLossPercent > 0)
  bool dtx = false;           // discontinuous transmission
  int packetLossPercent = 0;  // 0..100, expected loss hint
  int frameMs = 20;           // 10 or 20 (also 40/60 accepted)
};

/** Opus encoder in VOIP application mode. */
class OpusEncoder {
 public:
  /** Throws std::invalid_argument on a bad option. */
  explicit OpusEncoder(const OpusEncoderOptions& o);
  ~OpusEncoder();
  OpusEncoder(const OpusEncoder&) = delete;
  OpusEncoder& operator=(const OpusEncoder&) = delete;

  const OpusEncoderOptions& options() const { return o_; }
  /** Samples per channel one encode() consumes (frameMs at sampleRate). */
  int frameSamples() const { return o_.sampleRate / 1000 * o_.frameMs; }
  /**
   * Encodes exactly frameSamples() interleaved samples. Returns the packet size in bytes (1..maxBytes)
   * or a negative libopus error. A 1..2 byte result while DTX is on means "nothing to send".
   */
  int encode(const int16_t* pcm, uint8_t* out, int maxBytes);
  /** True when the last encode() was a DTX frame (libopus OPUS_GET_IN_DTX). */
  bool inDtx();
  void setBitrate(int bitrate);
  void setPacketLossPercent(int percent);
  void reset();

 private:
  ::OpusEncoder* enc_ = nullptr;
  OpusEncoderOptions o_;
};

}  // namespace audio
}  // namespace sw
