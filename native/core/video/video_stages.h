// The worker-side halves of the video receiver and sender: the parts that cost milliseconds per frame and
// run on a worker thread (docs/native-workers.md), split from the cheap per-packet parts that stay on the
// JS thread (Vp8Depacketizer, keyframe-request bookkeeping).
//
// VideoDecodeStage: whole VP8 frame -> libvpx decode -> (optionally) downscale + colour conversion.
// VideoEncodeStage: raw image -> (scale +) I420 -> VP8 encode -> RTP packets.
//
// Pure C++17, synchronous. Not thread-safe: each stage is used by one job at a time (a worker lane is a
// strand), so it needs no lock; results are plain values handed back through the owner's mailbox.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/video/video_frame.h"
#include "core/video/vp8_codec.h"
#include "core/video/vp8_packetizer.h"

namespace sw::video {

// What to do with one decoded frame.
struct DecodeRequest {
  bool convert = true;  // false: decode only (keeps the references right), no image out
  PixelFormat format = PixelFormat::kRgb;
  int max_width = 0;  // downscale before converting; 0 keeps the decoded size
};

struct DecodedImage {
  enum class Status : uint8_t { kImage, kDecodedOnly, kNoFrame, kError } status = Status::kNoFrame;
  std::string error;       // kError: libvpx's reason
  uint32_t timestamp = 0;  // RTP timestamp of the frame (90 kHz)
  uint32_t ssrc = 0;
  bool keyframe = false;
  int width = 0;  // of `data` (after downscaling); the decoded size when only decoded
  int height = 0;
  PixelFormat format = PixelFormat::kRgb;
  std::vector<uint8_t> data;  // kImage only
  int64_t decode_us = 0;      // steady-clock time spent in libvpx
  int64_t convert_us = 0;     // in scaling + conversion
};

class VideoDecodeStage {
 public:
  explicit VideoDecodeStage(int threads = 1) : decoder_(threads) {}
  DecodedImage Run(const uint8_t* frame, size_t size, uint32_t timestamp, uint32_t ssrc, bool keyframe,
                   const DecodeRequest& request);
  // Any thread (the JS thread, when the decode queue dropped a frame): a frame the decoder will never see
  // came before the next one Run() gets, so the delta frames that follow reference a picture it does not
  // have and would decode to a corrupt image. Run() skips them (status kNoFrame, counted) until a keyframe.
  void DiscardUntilKeyframe() { discard_.store(true, std::memory_order_release); }
  // Delta frames skipped that way (any thread).
  uint64_t skippedUntilKeyframe() const { return skipped_.load(std::memory_order_relaxed); }

 private:
  Vp8Decoder decoder_;
  I420Buffer scratch_;
  std::atomic<bool> discard_{false};
  std::atomic<uint64_t> skipped_{0};
};

struct EncodeRequest {
  std::vector<uint8_t> image;  // tightly packed, `format`, width x height
  PixelFormat format = PixelFormat::kRgb;
  int width = 0;
  int height = 0;
  uint32_t timestamp = 0;  // RTP timestamp (90 kHz)
  bool keyframe = false;   // force a keyframe
  int bitrate = 0;         // target bit/s for this and later frames; 0 keeps the current one
};

struct EncodedPackets {
  bool ok = false;
  std::string error;
  bool keyframe = false;
  uint32_t timestamp = 0;
  std::vector<std::vector<uint8_t>> packets;  // empty when the rate control skipped the frame
  size_t frame_bytes = 0;
  int64_t encode_us = 0;  // conversion + encode + packetize
};

class VideoEncodeStage {
 public:
  // Throws std::invalid_argument / std::runtime_error like Vp8Encoder and Vp8Packetizer.
  VideoEncodeStage(const Vp8EncoderOptions& encoder, const Vp8PacketizerOptions& packetizer)
      : encoder_(encoder), packetizer_(packetizer) {}
  EncodedPackets Run(const EncodeRequest& request);
  Vp8Packetizer& packetizer() { return packetizer_; }

 private:
  Vp8Encoder encoder_;
  Vp8Packetizer packetizer_;
  std::vector<uint8_t> frame_;
};

}  // namespace sw::video
