// JS binding of core/video/vp8_packetizer (JS thread only, or the one thread that owns the instance).
// packetize(frame, timestamp) returns the frame's RTP packets as Buffers, each at most `mtu` bytes.
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "binding/audio_wrap_util.h"
#include "binding/errors.h"
#include "binding/wraps.h"
#include "core/video/vp8_packetizer.h"

namespace sw {
namespace {

// {id, mid} or null/undefined (none) -> (id, mid) with id 0 for none.
void ReadMid(Napi::Env env, const Napi::Object& o, int* id, std::string* mid) {
  *id = 0;
  mid->clear();
  if (!HasField(o, "midExtension") || o.Get("midExtension").IsNull()) return;
  Napi::Value v = o.Get("midExtension");
  if (!v.IsObject()) ThrowTypeError(env, kErrInvalidArg, "midExtension must be {id, mid} or null");
  Napi::Object m = v.As<Napi::Object>();
  *id = static_cast<int>(RequiredInteger(m, "id", 1, 14));
  if (!m.Get("mid").IsString()) ThrowTypeError(env, kErrInvalidArg, "midExtension.mid must be a string");
  *mid = m.Get("mid").As<Napi::String>().Utf8Value();
}

class Vp8PacketizerWrap : public Napi::ObjectWrap<Vp8PacketizerWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Vp8Packetizer",
                       {
                           InstanceMethod("packetize", &Vp8PacketizerWrap::Packetize),
                           InstanceMethod("setRtpParams", &Vp8PacketizerWrap::SetRtpParams),
                           InstanceMethod("stats", &Vp8PacketizerWrap::Stats),
                           InstanceMethod("close", &Vp8PacketizerWrap::Close),
                           InstanceAccessor("nextSequence", &Vp8PacketizerWrap::NextSequence, nullptr),
                           InstanceAccessor("pictureId", &Vp8PacketizerWrap::PictureId, nullptr),
                           InstanceAccessor("maxPayloadPerPacket", &Vp8PacketizerWrap::MaxPayload, nullptr),
                       });
  }

  explicit Vp8PacketizerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Vp8PacketizerWrap>(info) {
    Napi::Env env = info.Env();
    Napi::Object o = ArgObject(info, 0, "options");
    video::Vp8PacketizerOptions p;
    p.ssrc = static_cast<uint32_t>(RequiredInteger(o, "ssrc", 0, 0xFFFFFFFFll));
    p.payload_type = static_cast<uint8_t>(RequiredInteger(o, "payloadType", 0, 127));
    p.initial_sequence = static_cast<uint16_t>(FieldInteger(o, "initialSequence", 0, 0, 0xFFFF));
    p.initial_picture_id = static_cast<uint16_t>(FieldInteger(o, "initialPictureId", 0, 0, 0x7FFF));
    p.mtu = static_cast<size_t>(FieldInteger(o, "mtu", 1200, 64, 65507));
    ReadMid(env, o, &p.mid_extension_id, &p.mid);
    pk_ = GuardCore(env, [&] { return std::make_unique<video::Vp8Packetizer>(p); });
  }

 private:
  video::Vp8Packetizer& core(Napi::Env env) {
    if (!pk_) ThrowClosed(env, "Vp8Packetizer");
    return *pk_;
  }
  Napi::Value Packetize(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    video::Vp8Packetizer& pk = core(env);
    ByteView f = ArgBytes(info, 0, "frame");
    if (f.size == 0) ThrowRangeError(env, kErrInvalidArg, "frame must not be empty");
    const uint32_t ts = static_cast<uint32_t>(ArgInteger(info, 1, "timestamp", 0, 0xFFFFFFFFll));
    packets_.clear();
    if (pk.Packetize(f.data, f.size, ts, &packets_) != video::Vp8Status::kOk) {
      ThrowRangeError(env, kErrInvalidArg, "frame could not be packetized");
    }
    Napi::Array out = Napi::Array::New(env, packets_.size());
    for (size_t i = 0; i < packets_.size(); ++i) {
      out.Set(static_cast<uint32_t>(i), CopyToUint8Array(env, packets_[i].data(), packets_[i].size()));
    }
    return out;
  }
  Napi::Value SetRtpParams(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    video::Vp8Packetizer& pk = core(env);
    Napi::Object o = ArgObject(info, 0, "params");
    if (HasField(o, "ssrc")) pk.SetSsrc(static_cast<uint32_t>(FieldInteger(o, "ssrc", 0, 0, 0xFFFFFFFFll)));
    if (HasField(o, "payloadType")) {
      pk.SetPayloadType(static_cast<uint8_t>(FieldInteger(o, "payloadType", 0, 0, 127)));
    }
    if (o.Has("midExtension")) {
      int id = 0;
      std::string mid;
      ReadMid(env, o, &id, &mid);
      GuardCore(env, [&] { pk.SetMidExtension(id, mid); });
    }
    return env.Undefined();
  }
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const video::Vp8PacketizerStats& s = core(env).stats();
    Napi::Object o = Napi::Object::New(env);
    o.Set("frames", Napi::Number::New(env, static_cast<double>(s.frames)));
    o.Set("packets", Napi::Number::New(env, static_cast<double>(s.packets)));
    o.Set("payloadBytes", Napi::Number::New(env, static_cast<double>(s.payload_bytes)));
    return o;
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    pk_.reset();
    return info.Env().Undefined();
  }
  Napi::Value NextSequence(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), core(info.Env()).next_sequence());
  }
  Napi::Value PictureId(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), core(info.Env()).picture_id());
  }
  Napi::Value MaxPayload(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(core(info.Env()).MaxPayloadPerPacket()));
  }

  std::unique_ptr<video::Vp8Packetizer> pk_;
  std::vector<std::vector<uint8_t>> packets_;
};

}  // namespace

void InitVp8Packetizer(Napi::Env env, Napi::Object exports) {
  exports.Set("Vp8Packetizer", Vp8PacketizerWrap::Define(env));
}

}  // namespace sw
