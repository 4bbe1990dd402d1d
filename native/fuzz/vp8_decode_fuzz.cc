// libFuzzer target: the receive-side VP8 decode stage (VideoDecodeStage: libvpx decode, then downscale and
// colour conversion) fed whole "frames" from fuzz bytes, as the depacketizer hands them over from the peer.
// The depacketizer guarantees a frame is non-empty, at most max_frame_bytes, and that a stream starts with a
// keyframe whose header passed ParseVp8FrameHeader; everything else is the peer's. Must never crash or trip
// ASan/UBSan, and an image it returns must have the size its dimensions say. Run with -rss_limit_mb: the
// decoded size comes from the peer's keyframe header, so memory per frame must stay bounded.
#include <cstdint>
#include <cstdlib>

#include "core/video/video_frame.h"
#include "core/video/video_stages.h"
#include "core/video/vp8_payload.h"

using namespace sw::video;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2 || size > 64 * 1024) return 0;
  static VideoDecodeStage* stage = new VideoDecodeStage(1);  // reused across inputs, as a receiver does
  DecodeRequest req;
  req.convert = (data[0] & 1) != 0;
  req.format = (data[0] & 2) ? PixelFormat::kRgb : PixelFormat::kI420;
  req.max_width = (data[0] & 4) ? 320 : 0;
  // Mirror the depacketizer's precondition for what reaches the decoder.
  Vp8FrameHeader fh;
  if (ParseVp8FrameHeader(data + 1, size - 1, &fh) != Vp8Status::kOk) return 0;
  const DecodedImage out = stage->Run(data + 1, size - 1, 0, 1, fh.keyframe, req);
  if (out.status == DecodedImage::Status::kImage) {
    if (out.width <= 0 || out.height <= 0) std::abort();
    if (out.data.size() != ImageBytes(out.format, out.width, out.height)) std::abort();
  }
  return 0;
}
