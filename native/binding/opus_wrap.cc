// JS bindings of core/audio/opus_codec (JS thread only): OpusEncoder and OpusDecoder classes plus packet
// inspection helpers. Bad arguments throw TypeError/RangeError (code ERR_INVALID_ARG); libopus failures on
// well-formed calls throw Error ERR_CODEC; a garbage packet throws RangeError ERR_CODEC-free ERR_INVALID_ARG.
#include <napi.h>

#include <memory>
#include <vector>

#include "binding/audio_wrap_util.h"
#include "binding/errors.h"
#include "binding/wraps.h"
#include "core/audio/opus_codec.h"

namespace sw {
namespace {

using audio::OpusDecoder;
using audio::OpusEncoder;
using audio::OpusEncoderOptions;

class OpusEncoderWrap : public Napi::ObjectWrap<OpusEncoderWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "OpusEncoder",
                       {
                           InstanceMethod("encode", &OpusEncoderWrap::Encode),
                           InstanceMethod("setBitrate", &OpusEncoderWrap::SetBitrate),
                           InstanceMethod("setPacketLossPercent", &OpusEncoderWrap::SetLoss),
                           InstanceMethod("reset", &OpusEncoderWrap::Reset),
                           InstanceMethod("close", &OpusEncoderWrap::Close),
                           InstanceAccessor("frameSamples", &OpusEncoderWrap::FrameSamples, nullptr),
                       });
  }

  explicit OpusEncoderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<OpusEncoderWrap>(info) {
    Napi::Env env = info.Env();
    Napi::Object o = OptionsArg(info, 0, "options");
    OpusEncoderOptions eo;
    eo.sampleRate = static_cast<int>(FieldInteger(o, "sampleRate", 48000, 8000, 48000));
    eo.channels = static_cast<int>(FieldInteger(o, "channels", 1, 1, 2));
    eo.bitrate = static_cast<int>(FieldInteger(o, "bitrate", 32000, 6000, 510000));
    eo.complexity = static_cast<int>(FieldInteger(o, "complexity", 5, 0, 10));
    eo.fec = FieldBool(o, "fec", true);
    eo.dtx = FieldBool(o, "dtx", false);
    eo.packetLossPercent = static_cast<int>(FieldInteger(o, "packetLossPercent", 0, 0, 100));
    eo.frameMs = static_cast<int>(FieldInteger(o, "frameMs", 20, 10, 60));
    enc_ = GuardCore(env, [&] { return std::make_unique<OpusEncoder>(eo); });
    out_.resize(1500);
  }

 private:
  OpusEncoder& core(Napi::Env env) {
    if (!enc_) ThrowClosed(env, "OpusEncoder");
    return *enc_;
  }
  Napi::Value Encode(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    OpusEncoder& e = core(env);
    Int16View pcm = ArgInt16(info, 0, "pcm");
    const size_t want = static_cast<size_t>(e.frameSamples()) * static_cast<size_t>(e.options().channels);
    if (pcm.length != want) {
      ThrowRangeError(env, kErrInvalidArg,
                      "pcm must hold exactly " + std::to_string(want) + " interleaved samples, got " +
                          std::to_string(pcm.length));
    }
    int n = e.encode(pcm.data, out_.data(), static_cast<int>(out_.size()));
    if (n < 0) ThrowError(env, kErrCodec, std::string("opus_encode: ") + opus_strerror(n));
    return CopyToUint8Array(env, out_.data(), static_cast<size_t>(n));
  }
  Napi::Value SetBitrate(const Napi::CallbackInfo& info) {
    OpusEncoder& e = core(info.Env());
    e.setBitrate(static_cast<int>(ArgInteger(info, 0, "bitrate", 6000, 510000)));
    return info.Env().Undefined();
  }
  Napi::Value SetLoss(const Napi::CallbackInfo& info) {
    OpusEncoder& e = core(info.Env());
    e.setPacketLossPercent(static_cast<int>(ArgInteger(info, 0, "packetLossPercent", 0, 100)));
    return info.Env().Undefined();
  }
  Napi::Value Reset(const Napi::CallbackInfo& info) {
    core(info.Env()).reset();
    return info.Env().Undefined();
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    enc_.reset();
    return info.Env().Undefined();
  }
  Napi::Value FrameSamples(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), core(info.Env()).frameSamples());
  }

  std::unique_ptr<OpusEncoder> enc_;
  std::vector<uint8_t> out_;
};

class OpusDecoderWrap : public Napi::ObjectWrap<OpusDecoderWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "OpusDecoder",
                       {
                           InstanceMethod("decode", &OpusDecoderWrap::Decode),
                           InstanceMethod("decodeFec", &OpusDecoderWrap::DecodeFec),
                           InstanceMethod("conceal", &OpusDecoderWrap::Conceal),
                           InstanceMethod("reset", &OpusDecoderWrap::Reset),
                           InstanceMethod("close", &OpusDecoderWrap::Close),
                       });
  }

  explicit OpusDecoderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<OpusDecoderWrap>(info) {
    Napi::Env env = info.Env();
    Napi::Object o = OptionsArg(info, 0, "options");
    const int rate = static_cast<int>(FieldInteger(o, "sampleRate", 48000, 8000, 48000));
    const int channels = static_cast<int>(FieldInteger(o, "channels", 1, 1, 8));
    dec_ = GuardCore(env, [&] { return std::make_unique<OpusDecoder>(rate, channels); });
    pcm_.resize(static_cast<size_t>(dec_->maxFrameSamples()) * static_cast<size_t>(channels));
  }

 private:
  OpusDecoder& core(Napi::Env env) {
    if (!dec_) ThrowClosed(env, "OpusDecoder");
    return *dec_;
  }
  Napi::Value Result(Napi::Env env, int n, const char* what) {
    if (n < 0) ThrowRangeError(env, kErrInvalidArg, std::string(what) + ": " + opus_strerror(n));
    return CopyToInt16Array(env, pcm_.data(),
                            static_cast<size_t>(n) * static_cast<size_t>(dec_->outChannels()));
  }
  int SamplesArg(const Napi::CallbackInfo& info, size_t i) {
    OpusDecoder& d = core(info.Env());
    const int n = static_cast<int>(ArgInteger(info, i, "samples", 1, d.maxFrameSamples()));
    if (n % (d.sampleRate() / 400) != 0) {
      ThrowRangeError(info.Env(), kErrInvalidArg, "samples must be a multiple of 2.5 ms");
    }
    return n;
  }
  Napi::Value Decode(const Napi::CallbackInfo& info) {
    OpusDecoder& d = core(info.Env());
    ByteView p = ArgBytes(info, 0, "packet");
    if (p.size == 0) ThrowRangeError(info.Env(), kErrInvalidArg, "packet must not be empty");
    return Result(info.Env(), d.decode(p.data, p.size, pcm_.data(), d.maxFrameSamples()), "packet");
  }
  Napi::Value DecodeFec(const Napi::CallbackInfo& info) {
    OpusDecoder& d = core(info.Env());
    ByteView p = ArgBytes(info, 0, "packet");
    if (p.size == 0) ThrowRangeError(info.Env(), kErrInvalidArg, "packet must not be empty");
    const int n = SamplesArg(info, 1);
    return Result(info.Env(), d.decodeFec(p.data, p.size, n, pcm_.data()), "packet");
  }
  Napi::Value Conceal(const Napi::CallbackInfo& info) {
    OpusDecoder& d = core(info.Env());
    const int n = SamplesArg(info, 0);
    return Result(info.Env(), d.conceal(n, pcm_.data()), "conceal");
  }
  Napi::Value Reset(const Napi::CallbackInfo& info) {
    core(info.Env()).reset();
    return info.Env().Undefined();
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    dec_.reset();
    return info.Env().Undefined();
  }

  std::unique_ptr<OpusDecoder> dec_;
  std::vector<int16_t> pcm_;
};

// opusPacketInfo(packet): { samples48k, frameSamples48k, hasFec } or throws RangeError for a garbage packet.
Napi::Value OpusPacketInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ByteView p = ArgBytes(info, 0, "packet");
  const int n = audio::OpusPacketSamples(p.data, p.size, 48000);
  const int fs = audio::OpusPacketFrameSamples(p.data, p.size, 48000);
  if (n <= 0 || fs <= 0) ThrowRangeError(env, kErrInvalidArg, "packet is not a valid Opus packet");
  Napi::Object o = Napi::Object::New(env);
  o.Set("samples48k", n);
  o.Set("frameSamples48k", fs);
  o.Set("hasFec", audio::OpusPacketHasFec(p.data, p.size));
  return o;
}

}  // namespace

void InitOpus(Napi::Env env, Napi::Object exports) {
  exports.Set("OpusEncoder", OpusEncoderWrap::Define(env));
  exports.Set("OpusDecoder", OpusDecoderWrap::Define(env));
  exports.Set("opusPacketInfo", Napi::Function::New(env, OpusPacketInfo, "opusPacketInfo"));
}

}  // namespace sw
