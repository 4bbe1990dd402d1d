// VP8 decoder and encoder: RAII owners of libvpx contexts. Pure C++17, synchronous, not thread-safe: each
// instance is used by one thread at a time (the JS thread, or a worker thread that owns it).
#pragma once

#include <vpx/vpx_decoder.h>
#include <vpx/vpx_encoder.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/video/video_frame.h"

namespace sw::video {

enum class DecodeResult : uint8_t {
  kFrame = 0,  // a new image is available (image())
  kNoFrame,    // accepted, but nothing to show (e.g. a hidden alt-ref frame)
  kError,      // libvpx refused the data (corrupt, or a delta frame without its references)
};

// Largest picture a decoder accepts, in pixels: 4096 x 4096 (a 5K screen share is 14.7 Mpx). The size of a
// VP8 stream comes from its keyframe header, i.e. from the peer: libvpx allocates its frame buffers for
// whatever a keyframe announces (a 2 KB keyframe claiming 16383 x 16383 cost 851 MiB of RSS), so a larger
// keyframe is refused before libvpx sees it. At the limit libvpx holds about 54 MB, the RGB image 50 MB.
inline constexpr int64_t kMaxDecodePixels = int64_t{4096} * 4096;

class Vp8Decoder {
 public:
  // `threads`: libvpx decoder threads (1..8). `max_pixels`: keyframes announcing a larger picture are
  // refused (kError) without reaching libvpx. Throws std::runtime_error when libvpx cannot initialise.
  explicit Vp8Decoder(int threads = 1, int64_t max_pixels = kMaxDecodePixels);
  ~Vp8Decoder();
  Vp8Decoder(const Vp8Decoder&) = delete;
  Vp8Decoder& operator=(const Vp8Decoder&) = delete;

  // Decodes one whole frame. After kError the decoder needs a keyframe; last_error() says why.
  DecodeResult Decode(const uint8_t* data, size_t size);
  // The last decoded image (valid until the next Decode or Reset); width 0 before the first one.
  const I420View& image() const { return image_; }
  const std::string& last_error() const { return error_; }
  uint64_t frames() const { return frames_; }
  // Forgets all reference frames (a new stream).
  void Reset();

 private:
  void Init();
  vpx_codec_ctx_t ctx_{};
  bool open_ = false;
  int threads_;
  int64_t max_pixels_;
  I420View image_;
  std::string error_;
  uint64_t frames_ = 0;
};

struct Vp8EncoderOptions {
  int width = 640;  // pixels, 2..16384
  int height = 480;
  int fps = 30;                  // 1..120, frames per second the caller will feed
  int bitrate = 1'000'000;       // bit/s, 10 kbit/s .. 50 Mbit/s
  int keyframe_interval = 3000;  // frames between automatic keyframes (keyframes on demand come sooner)
  int cpu_used = -6;             // libvpx speed, -16..16 (negative: always this speed); -6 is realtime
  int threads = 1;               // 1..8
  int min_quantizer = 2;         // 0..63
  int max_quantizer = 56;        // min_quantizer..63
};

class Vp8Encoder {
 public:
  // Throws std::invalid_argument for options out of range, std::runtime_error when libvpx refuses.
  explicit Vp8Encoder(const Vp8EncoderOptions& options);
  ~Vp8Encoder();
  Vp8Encoder(const Vp8Encoder&) = delete;
  Vp8Encoder& operator=(const Vp8Encoder&) = delete;

  // Encodes one image of exactly options().width x height (realtime deadline, no lag). Writes the frame to
  // *out (cleared first; empty when the rate control dropped it) and whether it is a keyframe. False (with
  // last_error()) when libvpx fails.
  bool Encode(const I420View& image, bool force_keyframe, std::vector<uint8_t>* out, bool* keyframe);
  // Converts (and scales, when the size differs) a packed image, then encodes it like Encode(). False
  // when the image's byte size does not match its format and size, or libvpx fails.
  bool EncodeImage(const uint8_t* data, size_t size, PixelFormat format, int width, int height,
                   bool force_keyframe, std::vector<uint8_t>* out, bool* keyframe);
  // Runtime target bitrate change, bit/s (same range as the option). Throws std::invalid_argument.
  void SetBitrate(int bitrate);

  const Vp8EncoderOptions& options() const { return o_; }
  const std::string& last_error() const { return error_; }
  uint64_t frames() const { return frames_; }

 private:
  vpx_codec_ctx_t ctx_{};
  vpx_codec_enc_cfg_t cfg_{};
  Vp8EncoderOptions o_;
  int64_t pts_ = 0;  // in frames (timebase 1/fps)
  uint64_t frames_ = 0;
  std::string error_;
  I420Buffer input_;    // the converted/scaled input of EncodeImage
  I420Buffer scratch_;  // the unscaled conversion when scaling
};

}  // namespace sw::video
