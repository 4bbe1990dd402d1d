// JS binding of core/audio/resampler (JS thread only): Resampler class returning exact, fixed-size frames.
#include <napi.h>

#include <memory>
#include <vector>

#include "binding/audio_wrap_util.h"
#include "binding/errors.h"
#include "binding/wraps.h"
#include "core/audio/resampler.h"

namespace sw {
namespace {

class ResamplerWrap : public Napi::ObjectWrap<ResamplerWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Resampler",
                       {
                           InstanceMethod("process", &ResamplerWrap::Process),
                           InstanceMethod("flush", &ResamplerWrap::Flush),
                           InstanceMethod("reset", &ResamplerWrap::Reset),
                           InstanceMethod("close", &ResamplerWrap::Close),
                           InstanceAccessor("latencySamples", &ResamplerWrap::Latency, nullptr),
                           InstanceAccessor("bufferedSamples", &ResamplerWrap::Buffered, nullptr),
                       });
  }

  explicit ResamplerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ResamplerWrap>(info) {
    Napi::Env env = info.Env();
    Napi::Object o = ArgObject(info, 0, "options");
    const int inRate = static_cast<int>(RequiredInteger(o, "inRate", 1000, 384000));
    const int outRate = static_cast<int>(RequiredInteger(o, "outRate", 1000, 384000));
    const int inCh = static_cast<int>(FieldInteger(o, "inChannels", 1, 1, 2));
    const int outCh = static_cast<int>(FieldInteger(o, "outChannels", inCh, 1, 2));
    const int quality = static_cast<int>(FieldInteger(o, "quality", audio::kDefaultResampleQuality, 0, 10));
    const int64_t defFrame = outRate % 100 == 0 ? outRate / 100 : outRate / 100 + 1;
    frameSamples_ = static_cast<size_t>(FieldInteger(o, "frameSamples", defFrame, 1, outRate * 10));
    rs_ = GuardCore(
        env, [&] { return std::make_unique<audio::Resampler>(inRate, outRate, inCh, outCh, quality); });
  }

 private:
  audio::Resampler& core(Napi::Env env) {
    if (!rs_) ThrowClosed(env, "Resampler");
    return *rs_;
  }
  Napi::Array TakeFrames(Napi::Env env) {
    audio::PcmFifo& f = rs_->fifo();
    const size_t len = frameSamples_ * static_cast<size_t>(rs_->outChannels());
    const size_t n = f.frames() / frameSamples_;
    Napi::Array out = Napi::Array::New(env, n);
    for (size_t i = 0; i < n; ++i) {
      out.Set(static_cast<uint32_t>(i), CopyToInt16Array(env, f.data(), len));
      f.drop(frameSamples_);
    }
    return out;
  }
  Napi::Value Process(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    audio::Resampler& r = core(env);
    Int16View pcm = ArgInt16(info, 0, "pcm");
    if (pcm.length % static_cast<size_t>(r.inChannels()) != 0) {
      ThrowRangeError(env, kErrInvalidArg, "pcm length must be a multiple of inChannels");
    }
    r.write(pcm.data, pcm.length / static_cast<size_t>(r.inChannels()));
    return TakeFrames(env);
  }
  // Pushes the filter's tail out with zeros and returns the remaining audio as whole frames (the last one
  // zero-padded), so nothing written is lost at the end of a stream.
  Napi::Value Flush(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    audio::Resampler& r = core(env);
    const int lat = r.latencySamples();
    if (lat > 0) {
      const size_t inFrames = static_cast<size_t>(static_cast<int64_t>(lat) * r.inRate() / r.outRate() + 1);
      std::vector<int16_t> zeros(inFrames * static_cast<size_t>(r.inChannels()), 0);
      r.write(zeros.data(), inFrames);
    }
    const size_t rem = r.fifo().frames() % frameSamples_;
    if (rem != 0) r.fifo().appendSilence(frameSamples_ - rem);
    Napi::Array out = TakeFrames(env);
    r.reset();
    return out;
  }
  Napi::Value Reset(const Napi::CallbackInfo& info) {
    core(info.Env()).reset();
    return info.Env().Undefined();
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    rs_.reset();
    return info.Env().Undefined();
  }
  Napi::Value Latency(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), core(info.Env()).latencySamples());
  }
  Napi::Value Buffered(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(core(info.Env()).fifo().frames()));
  }

  std::unique_ptr<audio::Resampler> rs_;
  size_t frameSamples_ = 0;
};

}  // namespace

void InitResampler(Napi::Env env, Napi::Object exports) {
  exports.Set("Resampler", ResamplerWrap::Define(env));
}

}  // namespace sw
