// JS binding of core/audio/audio_receiver (JS thread only).
//
// push()/poll() return the number of frames they wrote into the output buffers the TS class registered
// with setOutput() (interleaved PCM, and one concealed flag per frame); the TS side then copies each frame
// into its own Int16Array and builds the frame objects in JS, which is cheaper than creating them through
// N-API (measured ~3 us per packet). When a call produces more frames than those buffers hold (a long gap
// filled at once) or no buffers were registered, it returns an array of AudioFrame objects
// ({audio, sampleRate, numChannels, numFrames, pts, concealed}) instead.
#include <napi.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

#include "binding/audio_wrap_util.h"
#include "binding/errors.h"
#include "binding/wraps.h"
#include "core/audio/audio_receiver.h"

namespace sw {
namespace {

class AudioReceiverWrap : public Napi::ObjectWrap<AudioReceiverWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "AudioReceiver",
                       {
                           InstanceMethod("push", &AudioReceiverWrap::Push),
                           InstanceMethod("poll", &AudioReceiverWrap::Poll),
                           InstanceMethod("stats", &AudioReceiverWrap::Stats),
                           InstanceMethod("reset", &AudioReceiverWrap::Reset),
                           InstanceMethod("close", &AudioReceiverWrap::Close),
                           InstanceMethod("nextDeadlineMs", &AudioReceiverWrap::NextDeadline),
                           InstanceMethod("setOutput", &AudioReceiverWrap::SetOutput),
                       });
  }

  explicit AudioReceiverWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AudioReceiverWrap>(info) {
    Napi::Env env = info.Env();
    Napi::Object o = ArgObject(info, 0, "options");
    audio::AudioReceiverOptions ro;
    ro.sampleRate = static_cast<int>(RequiredInteger(o, "sampleRate", 8000, 192000));
    ro.channels = static_cast<int>(RequiredInteger(o, "channels", 1, 2));
    ro.frameMs = static_cast<int>(FieldInteger(o, "frameMs", 20, 10, 20));
    ro.payloadType = static_cast<int>(FieldInteger(o, "payloadType", -1, -1, 127));
    ro.jitter.minDelayMs = FieldNumber(o, "minDelayMs", ro.jitter.minDelayMs, 0, 10000);
    ro.jitter.maxDelayMs = FieldNumber(o, "maxDelayMs", ro.jitter.maxDelayMs, 0, 10000);
    ro.jitter.maxConcealMs = FieldNumber(o, "maxConcealMs", ro.jitter.maxConcealMs, 20, 60000);
    ro.resampleQuality = static_cast<int>(FieldInteger(o, "resampleQuality", ro.resampleQuality, 0, 10));
    ro.decodeAtTargetRate = FieldBool(o, "decodeAtTargetRate", true);
    rx_ = GuardCore(env, [&] { return std::make_unique<audio::AudioReceiver>(ro); });
  }

 private:
  audio::AudioReceiver& core(Napi::Env env) {
    if (!rx_) ThrowClosed(env, "AudioReceiver");
    return *rx_;
  }
  Napi::Array Frames(Napi::Env env) {
    const audio::AudioReceiver& r = *rx_;
    const size_t n = r.frameCount();
    Napi::Array out = Napi::Array::New(env, n);
    if (n == 0) return out;
    Napi::Number rate = Napi::Number::New(env, r.options().sampleRate);
    Napi::Number ch = Napi::Number::New(env, r.options().channels);
    Napi::Number nf = Napi::Number::New(env, static_cast<double>(r.frameSamples()));
    for (size_t i = 0; i < n; ++i) {
      Napi::Object f = Napi::Object::New(env);
      f.Set("audio", CopyToInt16Array(env, r.frameData(i), r.frameLen()));
      f.Set("sampleRate", rate);
      f.Set("numChannels", ch);
      f.Set("numFrames", nf);
      f.Set("pts", r.frameInfo(i).ptsMs);
      f.Set("concealed", r.frameInfo(i).concealed);
      out.Set(static_cast<uint32_t>(i), f);
    }
    return out;
  }
  // Copies this call's frames into the registered buffers and returns their count, or falls back to Frames().
  Napi::Value Output(Napi::Env env) {
    const audio::AudioReceiver& r = *rx_;
    const size_t n = r.frameCount();
    if (n == 0) return Napi::Number::New(env, 0);
    if (outData_ == nullptr || n * r.frameLen() > outLen_ || n > flagsLen_) return Frames(env);
    std::memcpy(outData_, r.frameData(0), n * r.frameLen() * sizeof(int16_t));
    for (size_t i = 0; i < n; ++i) flagsData_[i] = r.frameInfo(i).concealed ? 1 : 0;
    return Napi::Number::New(env, static_cast<double>(n));
  }
  // setOutput(pcm: Int16Array, concealedFlags: Uint8Array): the buffers Output() writes into.
  Napi::Value SetOutput(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    core(env);
    ToInt16(env, info[0], "pcm");
    if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      ThrowTypeError(env, kErrInvalidArg, "concealedFlags must be a Uint8Array");
    }
    // The TS class keeps both arrays private for its whole life (never transferred, so never detached);
    // the references keep them alive and the cached pointers save N-API calls on every packet.
    Napi::Int16Array out = info[0].As<Napi::Int16Array>();
    Napi::Uint8Array flags = info[1].As<Napi::Uint8Array>();
    outRef_ = Napi::Persistent(out);
    flagsRef_ = Napi::Persistent(flags);
    outData_ = out.Data();
    outLen_ = out.ElementLength();
    flagsData_ = flags.Data();
    flagsLen_ = flags.ElementLength();
    return env.Undefined();
  }
  Napi::Value Push(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    audio::AudioReceiver& r = core(env);
    ByteView p = ArgBytes(info, 0, "packet");
    const double arrival = ArgNumber(info, 1, "arrivalMs", -1e15, 1e15);
    r.push(p.data, p.size, arrival);
    return Output(env);
  }
  Napi::Value Poll(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    audio::AudioReceiver& r = core(env);
    r.poll(ArgNumber(info, 0, "nowMs", -1e15, 1e15));
    return Output(env);
  }
  Napi::Value NextDeadline(const Napi::CallbackInfo& info) {
    const double d = core(info.Env()).nextDeadlineMs();
    return Napi::Number::New(info.Env(), std::isfinite(d) ? d : std::numeric_limits<double>::infinity());
  }
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const audio::AudioReceiverStats s = core(env).stats();
    Napi::Object o = Napi::Object::New(env);
    o.Set("received", static_cast<double>(s.jitter.received));
    o.Set("lost", static_cast<double>(s.jitter.lost));
    o.Set("concealedMs", s.jitter.concealedMs);
    o.Set("silenceMs", s.jitter.silenceMs);
    o.Set("fecRecovered", static_cast<double>(s.jitter.fecRecovered));
    o.Set("lateDropped", static_cast<double>(s.jitter.lateDropped));
    o.Set("duplicates", static_cast<double>(s.jitter.duplicates));
    o.Set("invalid", static_cast<double>(s.jitter.invalid + s.rtpErrors));
    o.Set("payloadTypeDropped", static_cast<double>(s.payloadTypeDropped));
    o.Set("resets", static_cast<double>(s.jitter.resets));
    o.Set("reanchors", static_cast<double>(s.jitter.reanchors));
    o.Set("targetDelayMs", s.jitter.targetDelayMs);
    o.Set("jitterMs", s.jitter.jitterMs);
    o.Set("lastReleaseDelayMs", s.jitter.lastReleaseDelayMs);
    o.Set("bufferedPackets", static_cast<double>(s.jitter.buffered));
    o.Set("framesOut", static_cast<double>(s.framesOut));
    o.Set("decodeErrors", static_cast<double>(s.decodeErrors));
    o.Set("decodeRate", rx_->decodeRate());
    o.Set("resampling", rx_->resampling());
    return o;
  }
  Napi::Value Reset(const Napi::CallbackInfo& info) {
    core(info.Env()).reset();
    return info.Env().Undefined();
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    rx_.reset();
    outRef_.Reset();
    flagsRef_.Reset();
    outData_ = nullptr;
    flagsData_ = nullptr;
    return info.Env().Undefined();
  }

  std::unique_ptr<audio::AudioReceiver> rx_;
  Napi::Reference<Napi::Int16Array> outRef_;
  Napi::Reference<Napi::Uint8Array> flagsRef_;
  int16_t* outData_ = nullptr;
  size_t outLen_ = 0;
  uint8_t* flagsData_ = nullptr;
  size_t flagsLen_ = 0;
};

}  // namespace

void InitAudioReceiver(Napi::Env env, Napi::Object exports) {
  exports.Set("AudioReceiver", AudioReceiverWrap::Define(env));
}

}  // namespace sw
