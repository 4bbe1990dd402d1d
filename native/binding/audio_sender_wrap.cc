// JS binding of core/audio/audio_sender (JS thread only). pull() returns the due RTP packets as new
// Uint8Arrays; lastTransitions() returns the on-the-wire speaking transitions of the last pull (or null).
#include <napi.h>

#include <memory>
#include <string>

#include "binding/audio_wrap_util.h"
#include "binding/errors.h"
#include "binding/wraps.h"
#include "core/audio/audio_sender.h"

namespace sw {
namespace {

void ReadMid(const Napi::Object& o, int* id, std::string* mid) {
  *id = 0;
  mid->clear();
  if (!HasField(o, "midExtension")) return;
  Napi::Value v = o.Get("midExtension");
  if (v.IsNull()) return;
  if (!v.IsObject()) ThrowTypeError(o.Env(), kErrInvalidArg, "midExtension must be an object or null");
  Napi::Object m = v.As<Napi::Object>();
  *id = static_cast<int>(RequiredInteger(m, "id", 1, 14));
  if (!m.Get("mid").IsString()) ThrowTypeError(o.Env(), kErrInvalidArg, "midExtension.mid must be a string");
  *mid = m.Get("mid").As<Napi::String>().Utf8Value();
  if (mid->empty() || mid->size() > 16) {
    ThrowRangeError(o.Env(), kErrInvalidArg, "midExtension.mid must be 1..16 bytes");
  }
}

class AudioSenderWrap : public Napi::ObjectWrap<AudioSenderWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "AudioSender",
                       {
                           InstanceMethod("write", &AudioSenderWrap::Write),
                           InstanceMethod("pull", &AudioSenderWrap::Pull),
                           InstanceMethod("lastTransitions", &AudioSenderWrap::Transitions),
                           InstanceMethod("clear", &AudioSenderWrap::Clear),
                           InstanceMethod("setRtpParams", &AudioSenderWrap::SetRtpParams),
                           InstanceMethod("setPacketLossPercent", &AudioSenderWrap::SetLoss),
                           InstanceMethod("setBitrate", &AudioSenderWrap::SetBitrate),
                           InstanceMethod("stats", &AudioSenderWrap::Stats),
                           InstanceMethod("close", &AudioSenderWrap::Close),
                           InstanceAccessor("queuedMs", &AudioSenderWrap::QueuedMs, nullptr),
                           InstanceAccessor("playedOutMs", &AudioSenderWrap::PlayedOutMs, nullptr),
                           InstanceAccessor("speaking", &AudioSenderWrap::Speaking, nullptr),
                       });
  }

  explicit AudioSenderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AudioSenderWrap>(info) {
    Napi::Env env = info.Env();
    Napi::Object o = ArgObject(info, 0, "options");
    audio::AudioSenderOptions so;
    so.sampleRate = static_cast<int>(RequiredInteger(o, "sampleRate", 8000, 192000));
    so.channels = static_cast<int>(RequiredInteger(o, "channels", 1, 2));
    so.ssrc = static_cast<uint32_t>(RequiredInteger(o, "ssrc", 0, 0xffffffffLL));
    so.payloadType = static_cast<int>(RequiredInteger(o, "payloadType", 0, 127));
    so.bitrate = static_cast<int>(FieldInteger(o, "bitrate", so.bitrate, 6000, 510000));
    so.complexity = static_cast<int>(FieldInteger(o, "complexity", so.complexity, 0, 10));
    so.fec = FieldBool(o, "fec", so.fec);
    so.dtx = FieldBool(o, "dtx", so.dtx);
    so.frameMs = static_cast<int>(FieldInteger(o, "frameMs", 20, 10, 20));
    so.capacityMs = static_cast<int>(FieldInteger(o, "capacityMs", so.capacityMs, 20, 600000));
    so.autoSilence = FieldBool(o, "autoSilence", so.autoSilence);
    so.encodeChannels = static_cast<int>(FieldInteger(o, "encodeChannels", 1, 1, 2));
    so.packetLossPercent = static_cast<int>(FieldInteger(o, "packetLossPercent", 0, 0, 100));
    so.resampleQuality = static_cast<int>(FieldInteger(o, "resampleQuality", so.resampleQuality, 0, 10));
    so.initialSequence = static_cast<uint16_t>(FieldInteger(o, "initialSequence", 0, 0, 65535));
    so.initialTimestamp = static_cast<uint32_t>(FieldInteger(o, "initialTimestamp", 0, 0, 0xffffffffLL));
    ReadMid(o, &so.midExtensionId, &so.mid);
    tx_ = GuardCore(env, [&] { return std::make_unique<audio::AudioSender>(so); });
  }

 private:
  audio::AudioSender& core(Napi::Env env) {
    if (!tx_) ThrowClosed(env, "AudioSender");
    return *tx_;
  }
  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    audio::AudioSender& s = core(env);
    Int16View pcm = ArgInt16(info, 0, "pcm");
    const size_t ch = static_cast<size_t>(s.options().channels);
    if (pcm.length % ch != 0)
      ThrowRangeError(env, kErrInvalidArg, "pcm length must be a multiple of channels");
    const size_t accepted = s.write(pcm.data, pcm.length / ch);
    return Napi::Number::New(env, static_cast<double>(accepted * ch));
  }
  Napi::Value Pull(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    audio::AudioSender& s = core(env);
    const size_t n = s.pull(ArgNumber(info, 0, "nowMs", -1e15, 1e15));
    Napi::Array out = Napi::Array::New(env, n);
    for (size_t i = 0; i < n; ++i)
      out.Set(static_cast<uint32_t>(i), CopyToUint8Array(env, s.packet(i), s.packetLen(i)));
    return out;
  }
  Napi::Value Transitions(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const auto& t = core(env).transitions();
    if (t.empty()) return env.Null();
    Napi::Array out = Napi::Array::New(env, t.size());
    for (size_t i = 0; i < t.size(); ++i) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("speaking", t[i].speaking);
      o.Set("atMs", t[i].atMs);
      o.Set("playedOutMs", t[i].playedOutMs);
      out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
  }
  Napi::Value Clear(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), core(info.Env()).clear());
  }
  Napi::Value SetRtpParams(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    audio::AudioSender& s = core(env);
    Napi::Object o = ArgObject(info, 0, "params");
    // Validate everything before changing anything.
    const bool hasSsrc = HasField(o, "ssrc");
    const bool hasPt = HasField(o, "payloadType");
    const bool hasMid = o.Has("midExtension") && !o.Get("midExtension").IsUndefined();
    const int64_t ssrc = hasSsrc ? ToInteger(env, o.Get("ssrc"), "ssrc", 0, 0xffffffffLL) : 0;
    const int64_t pt = hasPt ? ToInteger(env, o.Get("payloadType"), "payloadType", 0, 127) : 0;
    int id = 0;
    std::string mid;
    if (hasMid) ReadMid(o, &id, &mid);
    if (hasSsrc) s.setSsrc(static_cast<uint32_t>(ssrc));
    if (hasPt) s.setPayloadType(static_cast<int>(pt));
    if (hasMid) s.setMidExtension(id, mid);
    return env.Undefined();
  }
  Napi::Value SetLoss(const Napi::CallbackInfo& info) {
    core(info.Env()).setPacketLossPercent(static_cast<int>(ArgInteger(info, 0, "packetLossPercent", 0, 100)));
    return info.Env().Undefined();
  }
  Napi::Value SetBitrate(const Napi::CallbackInfo& info) {
    core(info.Env()).setBitrate(static_cast<int>(ArgInteger(info, 0, "bitrate", 6000, 510000)));
    return info.Env().Undefined();
  }
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    audio::AudioSender& s = core(env);
    const audio::AudioSenderStats& st = s.stats();
    Napi::Object o = Napi::Object::New(env);
    o.Set("packetsSent", static_cast<double>(st.packetsSent));
    o.Set("audioPackets", static_cast<double>(st.audioPackets));
    o.Set("silencePackets", static_cast<double>(st.silencePackets));
    o.Set("dtxSlots", static_cast<double>(st.dtxSlots));
    o.Set("skippedSlots", static_cast<double>(st.skippedSlots));
    o.Set("droppedOnWriteSamples", static_cast<double>(st.droppedOnWriteSamples));
    o.Set("encodeErrors", static_cast<double>(st.encodeErrors));
    o.Set("nextSequence", s.nextSequence());
    o.Set("nextTimestamp", static_cast<double>(s.nextTimestamp()));
    return o;
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    tx_.reset();
    return info.Env().Undefined();
  }
  Napi::Value QueuedMs(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), core(info.Env()).queuedMs());
  }
  Napi::Value PlayedOutMs(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), core(info.Env()).playedOutMs());
  }
  Napi::Value Speaking(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), core(info.Env()).speaking());
  }

  std::unique_ptr<audio::AudioSender> tx_;
};

}  // namespace

void InitAudioSender(Napi::Env env, Napi::Object exports) {
  exports.Set("AudioSender", AudioSenderWrap::Define(env));
}

}  // namespace sw
