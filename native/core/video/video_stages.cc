#include "core/video/video_stages.h"

#include <chrono>
#include <exception>

namespace sw::video {
namespace {

int64_t Us(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::microseconds>(b - a).count();
}

}  // namespace

DecodedImage VideoDecodeStage::Run(const uint8_t* frame, size_t size, uint32_t timestamp, uint32_t ssrc,
                                   bool keyframe, const DecodeRequest& request) {
  DecodedImage out;
  out.timestamp = timestamp;
  out.ssrc = ssrc;
  out.keyframe = keyframe;
  out.format = request.format;
  if (discard_.load(std::memory_order_acquire)) {
    if (!keyframe) {
      skipped_.fetch_add(1, std::memory_order_relaxed);
      return out;  // kNoFrame: nothing for JS
    }
    discard_.store(false, std::memory_order_release);
  }
  const auto t0 = std::chrono::steady_clock::now();
  const DecodeResult r = decoder_.Decode(frame, size);
  const auto t1 = std::chrono::steady_clock::now();
  out.decode_us = Us(t0, t1);
  if (r == DecodeResult::kError) {
    out.status = DecodedImage::Status::kError;
    out.error = decoder_.last_error();
    return out;
  }
  if (r == DecodeResult::kNoFrame) return out;
  const I420View& img = decoder_.image();
  if (!request.convert) {
    out.status = DecodedImage::Status::kDecodedOnly;
    out.width = img.width;
    out.height = img.height;
    return out;
  }
  FitWidth(img.width, img.height, request.max_width, &out.width, &out.height);
  if (!ConvertFromI420(img, request.format, out.width, out.height, &out.data, &scratch_)) {
    out.status = DecodedImage::Status::kError;
    out.error = "colour conversion failed";
    return out;
  }
  out.convert_us = Us(t1, std::chrono::steady_clock::now());
  out.status = DecodedImage::Status::kImage;
  return out;
}

EncodedPackets VideoEncodeStage::Run(const EncodeRequest& request) {
  EncodedPackets out;
  out.timestamp = request.timestamp;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    if (request.bitrate > 0 && request.bitrate != encoder_.options().bitrate)
      encoder_.SetBitrate(request.bitrate);
  } catch (const std::exception& e) {
    out.error = e.what();
    return out;
  }
  bool key = false;
  if (!encoder_.EncodeImage(request.image.data(), request.image.size(), request.format, request.width,
                            request.height, request.keyframe, &frame_, &key)) {
    out.error = encoder_.last_error();
    return out;
  }
  out.keyframe = key;
  out.frame_bytes = frame_.size();
  if (!frame_.empty() && packetizer_.Packetize(frame_.data(), frame_.size(), request.timestamp,
                                               &out.packets) != Vp8Status::kOk) {
    out.error = "packetize failed";
    return out;
  }
  out.ok = true;
  out.encode_us = Us(t0, std::chrono::steady_clock::now());
  return out;
}

}  // namespace sw::video
