// Helpers shared by the video wraps (vp8_*_wrap.cc, video_*_wrap.cc). JS thread only.
#pragma once

#include <napi.h>

#include <string>

#include "binding/errors.h"
#include "core/video/video_frame.h"
#include "core/video/video_sender_feedback.h"
#include "core/video/vp8_depacketizer.h"
#include "core/video/vp8_payload.h"

namespace sw {

// Pixel format names shared with the TS side (src/media/video-frame.ts): 'RGB' | 'RGBA' | 'BGRA' | 'I420'.
inline video::PixelFormat ToPixelFormat(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsString()) ThrowTypeError(env, kErrInvalidArg, std::string(name) + " must be a string");
  const std::string s = v.As<Napi::String>().Utf8Value();
  if (s == "RGB") return video::PixelFormat::kRgb;
  if (s == "RGBA") return video::PixelFormat::kRgba;
  if (s == "BGRA") return video::PixelFormat::kBgra;
  if (s == "I420") return video::PixelFormat::kI420;
  ThrowRangeError(env, kErrInvalidArg, std::string(name) + " must be one of RGB, RGBA, BGRA, I420");
}

inline const char* PixelFormatName(video::PixelFormat f) {
  switch (f) {
    case video::PixelFormat::kRgb:
      return "RGB";
    case video::PixelFormat::kRgba:
      return "RGBA";
    case video::PixelFormat::kBgra:
      return "BGRA";
    case video::PixelFormat::kI420:
      break;
  }
  return "I420";
}

// The depacketizer's options from a JS options object (the fields of Vp8DepacketizerOptions in
// src/native/types.ts), with the defaults and bounds the Vp8Depacketizer and VideoReceiver wraps share.
// Throws a coded TypeError or RangeError on a field of the wrong type or out of its range.
inline video::Vp8DepacketizerOptions ReadDepacketizerOptions(const Napi::Object& o) {
  video::Vp8DepacketizerOptions d;
  d.payload_type = static_cast<int>(FieldInteger(o, "payloadType", -1, -1, 127));
  d.max_packets = static_cast<size_t>(FieldInteger(o, "maxPackets", 1024, 1, 1 << 16));
  d.max_frame_bytes = static_cast<size_t>(FieldInteger(o, "maxFrameBytes", 4 << 20, 1, 64 << 20));
  d.max_wait_ms = static_cast<int>(FieldInteger(o, "maxWaitMs", 100, 1, 10000));
  d.loss.nack = FieldBool(o, "nack", false);
  d.loss.nack_interval_ms = static_cast<int>(FieldInteger(o, "nackIntervalMs", 40, 1, 10000));
  d.loss.max_nack_retries = static_cast<int>(FieldInteger(o, "maxNackRetries", 3, 0, 100));
  d.loss.max_nack_list = static_cast<size_t>(FieldInteger(o, "maxNackList", 250, 1, 10000));
  d.loss.pli_interval_ms = static_cast<int>(FieldInteger(o, "pliIntervalMs", 500, 0, 60000));
  return d;
}

// What one RTCP packet asked of a video sender, as the JS object both sender wraps return
// ({ keyframeRequested, rembBps: number | null, nacked }).
inline Napi::Object FeedbackResultToJs(Napi::Env env, const video::VideoFeedbackResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("keyframeRequested", Napi::Boolean::New(env, r.keyframe_requested));
  o.Set("rembBps", r.remb_bps < 0 ? env.Null() : Napi::Number::New(env, static_cast<double>(r.remb_bps)));
  o.Set("nacked", Napi::Number::New(env, r.nacked));
  return o;
}

// A malformed VP8 packet: RangeError with code ERR_VP8_MALFORMED and a stable `reason`.
[[noreturn]] inline void ThrowVp8(Napi::Env env, video::Vp8Status status) {
  Napi::Error e = Napi::RangeError::New(env, video::Vp8StatusMessage(status));
  e.Set("reason", Napi::String::New(env, video::Vp8StatusReason(status)));
  ThrowWithCode(e, kErrVp8Malformed);
}

// A JS image object {data, width, height, format} (what the decoder returns and the encoder takes).
inline Napi::Object MakeImage(Napi::Env env, Napi::Buffer<uint8_t> data, int width, int height,
                              video::PixelFormat format) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("data", data);
  o.Set("width", width);
  o.Set("height", height);
  o.Set("format", PixelFormatName(format));
  return o;
}

}  // namespace sw
