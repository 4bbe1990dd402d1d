// JS bindings of core/video/vp8_codec (Vp8Decoder, Vp8Encoder) and core/video/video_frame
// (convertImage). Synchronous: each call runs on the calling thread (VP8 costs milliseconds per frame;
// callers that must not block keep these off the thread that carries audio).
//
// Images cross the boundary as {data: Uint8Array, width, height, format} with format 'RGB' (R,G,B bytes),
// 'RGBA', 'BGRA' or 'I420' (planes packed back to back). Bad arguments throw TypeError/RangeError
// ERR_INVALID_ARG; data libvpx refuses throws Error ERR_CODEC.
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "binding/audio_wrap_util.h"
#include "binding/errors.h"
#include "binding/video_wrap_util.h"
#include "binding/wraps.h"
#include "core/video/video_frame.h"
#include "core/video/vp8_codec.h"

namespace sw {
namespace {

struct ImageArg {
  ByteView data;
  int width;
  int height;
  video::PixelFormat format;
};

// Reads and checks {data, width, height, format}: the byte count must match the format and size.
ImageArg ToImage(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsObject()) ThrowTypeError(env, kErrInvalidArg, std::string(name) + " must be an image object");
  Napi::Object o = v.As<Napi::Object>();
  ImageArg a{ToBytes(env, o.Get("data"), "image.data"),
             static_cast<int>(ToInteger(env, o.Get("width"), "image.width", 1, video::kMaxVideoDimension)),
             static_cast<int>(ToInteger(env, o.Get("height"), "image.height", 1, video::kMaxVideoDimension)),
             ToPixelFormat(env, o.Get("format"), "image.format")};
  const size_t want = video::ImageBytes(a.format, a.width, a.height);
  if (a.data.size != want) {
    ThrowRangeError(env, kErrInvalidArg,
                    std::string(name) + ".data must hold " + std::to_string(want) + " bytes for " +
                        std::to_string(a.width) + "x" + std::to_string(a.height) + " " +
                        PixelFormatName(a.format) + ", got " + std::to_string(a.data.size));
  }
  return a;
}

class Vp8DecoderWrap : public Napi::ObjectWrap<Vp8DecoderWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Vp8Decoder",
                       {
                           InstanceMethod("decode", &Vp8DecoderWrap::Decode),
                           InstanceMethod("image", &Vp8DecoderWrap::Image),
                           InstanceMethod("reset", &Vp8DecoderWrap::Reset),
                           InstanceMethod("close", &Vp8DecoderWrap::Close),
                           InstanceAccessor("frames", &Vp8DecoderWrap::Frames, nullptr),
                       });
  }

  explicit Vp8DecoderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Vp8DecoderWrap>(info) {
    Napi::Env env = info.Env();
    Napi::Object o = OptionsArg(info, 0, "options");
    const int threads = static_cast<int>(FieldInteger(o, "threads", 1, 1, 8));
    dec_ = GuardCore(env, [&] { return std::make_unique<video::Vp8Decoder>(threads); });
  }

 private:
  video::Vp8Decoder& core(Napi::Env env) {
    if (!dec_) ThrowClosed(env, "Vp8Decoder");
    return *dec_;
  }
  // decode(frame) -> {width, height} of the new image, or null when the frame shows nothing.
  Napi::Value Decode(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    video::Vp8Decoder& d = core(env);
    ByteView f = ArgBytes(info, 0, "frame");
    if (f.size == 0) ThrowRangeError(env, kErrInvalidArg, "frame must not be empty");
    const video::DecodeResult r = d.Decode(f.data, f.size);
    if (r == video::DecodeResult::kError) ThrowError(env, kErrCodec, "VP8 decode failed: " + d.last_error());
    if (r == video::DecodeResult::kNoFrame) return env.Null();
    Napi::Object o = Napi::Object::New(env);
    o.Set("width", d.image().width);
    o.Set("height", d.image().height);
    return o;
  }
  // image(format, maxWidth, into?) -> the last decoded image converted (and downscaled to maxWidth; 0: full
  // size), written into `into` when given.
  Napi::Value Image(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    video::Vp8Decoder& d = core(env);
    const video::PixelFormat format = ToPixelFormat(env, info[0], "format");
    const int max_width = static_cast<int>(ArgInteger(info, 1, "maxWidth", 0, video::kMaxVideoDimension));
    if (d.image().width == 0) ThrowError(env, "ERR_INVALID_STATE", "no frame has been decoded yet");
    int w = 0, h = 0;
    video::FitWidth(d.image().width, d.image().height, max_width, &w, &h);
    const size_t bytes = video::ImageBytes(format, w, h);
    // Converted straight into the JS buffer: no intermediate copy of a frame-sized image. A caller that
    // recycles its buffers passes one (`into`) and saves the allocation (page faults and GC pressure of
    // a fresh frame-sized buffer cost several times the conversion itself).
    Napi::Buffer<uint8_t> buf;
    if (info.Length() > 2 && !info[2].IsUndefined()) {
      if (!info[2].IsBuffer()) ThrowTypeError(env, kErrInvalidArg, "into must be a Buffer");
      buf = info[2].As<Napi::Buffer<uint8_t>>();
      if (buf.Length() != bytes) {
        ThrowRangeError(
            env, kErrInvalidArg,
            "into must hold " + std::to_string(bytes) + " bytes, got " + std::to_string(buf.Length()));
      }
    } else {
      buf = Napi::Buffer<uint8_t>::New(env, bytes);
    }
    if (!video::ConvertFromI420(d.image(), format, w, h, buf.Data(), buf.Length(), &scratch_)) {
      ThrowError(env, kErrCodec, "colour conversion failed");
    }
    return MakeImage(env, buf, w, h, format);
  }
  Napi::Value Reset(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    video::Vp8Decoder& d = core(env);
    GuardCore(env, [&] { d.Reset(); });
    return env.Undefined();
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    dec_.reset();
    return info.Env().Undefined();
  }
  Napi::Value Frames(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(core(info.Env()).frames()));
  }

  std::unique_ptr<video::Vp8Decoder> dec_;
  video::I420Buffer scratch_;
};

class Vp8EncoderWrap : public Napi::ObjectWrap<Vp8EncoderWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Vp8Encoder",
                       {
                           InstanceMethod("encode", &Vp8EncoderWrap::Encode),
                           InstanceMethod("setBitrate", &Vp8EncoderWrap::SetBitrate),
                           InstanceMethod("close", &Vp8EncoderWrap::Close),
                           InstanceAccessor("frames", &Vp8EncoderWrap::Frames, nullptr),
                       });
  }

  explicit Vp8EncoderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Vp8EncoderWrap>(info) {
    Napi::Env env = info.Env();
    Napi::Object o = ArgObject(info, 0, "options");
    video::Vp8EncoderOptions e;
    e.width = static_cast<int>(RequiredInteger(o, "width", 2, video::kMaxVideoDimension));
    e.height = static_cast<int>(RequiredInteger(o, "height", 2, video::kMaxVideoDimension));
    e.fps = static_cast<int>(FieldInteger(o, "fps", 30, 1, 120));
    e.bitrate = static_cast<int>(FieldInteger(o, "bitrate", 1'000'000, 10'000, 50'000'000));
    e.keyframe_interval = static_cast<int>(FieldInteger(o, "keyframeInterval", 3000, 1, 100'000));
    e.cpu_used = static_cast<int>(FieldInteger(o, "cpuUsed", -6, -16, 16));
    e.threads = static_cast<int>(FieldInteger(o, "threads", 1, 1, 8));
    e.min_quantizer = static_cast<int>(FieldInteger(o, "minQuantizer", 2, 0, 63));
    e.max_quantizer = static_cast<int>(FieldInteger(o, "maxQuantizer", 56, 0, 63));
    enc_ = GuardCore(env, [&] { return std::make_unique<video::Vp8Encoder>(e); });
  }

 private:
  video::Vp8Encoder& core(Napi::Env env) {
    if (!enc_) ThrowClosed(env, "Vp8Encoder");
    return *enc_;
  }
  // encode(image, keyframe) -> {data, keyframe} or null when the rate control skipped the frame.
  Napi::Value Encode(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    video::Vp8Encoder& e = core(env);
    const ImageArg img = ToImage(env, info[0], "image");
    const bool force = info.Length() > 1 && !info[1].IsUndefined() && ToBool(env, info[1], "keyframe");
    bool key = false;
    if (!e.EncodeImage(img.data.data, img.data.size, img.format, img.width, img.height, force, &out_, &key)) {
      ThrowError(env, kErrCodec, "VP8 encode failed: " + e.last_error());
    }
    if (out_.empty()) return env.Null();
    Napi::Object o = Napi::Object::New(env);
    o.Set("data", CopyToUint8Array(env, out_.data(), out_.size()));
    o.Set("keyframe", Napi::Boolean::New(env, key));
    return o;
  }
  Napi::Value SetBitrate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    video::Vp8Encoder& e = core(env);
    const int bps = static_cast<int>(ArgInteger(info, 0, "bitrate", 10'000, 50'000'000));
    GuardCore(env, [&] { e.SetBitrate(bps); });
    return env.Undefined();
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    enc_.reset();
    return info.Env().Undefined();
  }
  Napi::Value Frames(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(core(info.Env()).frames()));
  }

  std::unique_ptr<video::Vp8Encoder> enc_;
  std::vector<uint8_t> out_;
};

// convertImage(image, format, width, height) -> image in `format` at width x height (scaled when needed).
Napi::Value ConvertImage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const ImageArg img = ToImage(env, info[0], "image");
  const video::PixelFormat format = ToPixelFormat(env, info[1], "format");
  const int w = static_cast<int>(ArgInteger(info, 2, "width", 1, video::kMaxVideoDimension));
  const int h = static_cast<int>(ArgInteger(info, 3, "height", 1, video::kMaxVideoDimension));
  video::I420Buffer yuv, scratch;
  Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(env, video::ImageBytes(format, w, h));
  bool ok = false;
  if (img.format == video::PixelFormat::kI420) {
    ok = video::ConvertFromI420(video::ViewI420(img.data.data, img.width, img.height), format, w, h,
                                out.Data(), out.Length(), &scratch);
  } else {
    yuv.Resize(img.width, img.height);
    ok = video::ConvertToI420(img.data.data, img.data.size, img.format, img.width, img.height, &yuv,
                              &scratch) &&
         video::ConvertFromI420(yuv.view(), format, w, h, out.Data(), out.Length(), &scratch);
  }
  if (!ok) ThrowError(env, kErrCodec, "colour conversion failed");
  return MakeImage(env, out, w, h, format);
}

}  // namespace

void InitVp8Codec(Napi::Env env, Napi::Object exports) {
  exports.Set("Vp8Decoder", Vp8DecoderWrap::Define(env));
  exports.Set("Vp8Encoder", Vp8EncoderWrap::Define(env));
  exports.Set("convertImage", Napi::Function::New(env, ConvertImage, "convertImage"));
}

}  // namespace sw
