// Helpers shared by the video wraps (vp8_*_wrap.cc, video_*_wrap.cc). JS thread only.
#pragma once

#include <napi.h>

#include <string>

#include "binding/errors.h"
#include "core/video/video_frame.h"
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
