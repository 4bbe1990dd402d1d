// JS binding of core/video/vp8_depacketizer (JS thread only, or the one thread that owns the instance).
//
// push(packet, nowMs) takes one RTP packet and returns how many whole frames are ready; pop() hands them
// out one by one ({data, timestamp, ssrc, keyframe, width, height, pictureId, firstSequence, lastSequence,
// packets, firstArrivalMs, lastArrivalMs}), so a packet that completes nothing allocates nothing in JS.
// A malformed packet throws RangeError ERR_VP8_MALFORMED with a stable `reason` and leaves the stream as
// it was. feedback(nowMs, senderSsrc) returns the RTCP (NACK and/or PLI) due now, or null.
#include <napi.h>

#include <memory>
#include <vector>

#include "binding/audio_wrap_util.h"
#include "binding/errors.h"
#include "binding/video_wrap_util.h"
#include "binding/wraps.h"
#include "core/video/vp8_depacketizer.h"

namespace sw {
namespace {

// Caller clocks beyond +-1e15 ms are refused (the core does int64 arithmetic on them).
constexpr double kMaxClockMs = 1e15;

class Vp8DepacketizerWrap : public Napi::ObjectWrap<Vp8DepacketizerWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Vp8Depacketizer",
                       {
                           InstanceMethod("push", &Vp8DepacketizerWrap::Push),
                           InstanceMethod("poll", &Vp8DepacketizerWrap::Poll),
                           InstanceMethod("pop", &Vp8DepacketizerWrap::Pop),
                           InstanceMethod("feedback", &Vp8DepacketizerWrap::Feedback),
                           InstanceMethod("nextDeadlineMs", &Vp8DepacketizerWrap::NextDeadline),
                           InstanceMethod("requestKeyframe", &Vp8DepacketizerWrap::RequestKeyframe),
                           InstanceMethod("stats", &Vp8DepacketizerWrap::Stats),
                           InstanceMethod("reset", &Vp8DepacketizerWrap::Reset),
                           InstanceMethod("close", &Vp8DepacketizerWrap::Close),
                       });
  }

  explicit Vp8DepacketizerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Vp8DepacketizerWrap>(info) {
    Napi::Env env = info.Env();
    Napi::Object o = OptionsArg(info, 0, "options");
    const video::Vp8DepacketizerOptions d = ReadDepacketizerOptions(o);
    dp_ = GuardCore(env, [&] { return std::make_unique<video::Vp8Depacketizer>(d); });
  }

 private:
  video::Vp8Depacketizer& core(Napi::Env env) {
    if (!dp_) ThrowClosed(env, "Vp8Depacketizer");
    return *dp_;
  }
  static int64_t Clock(const Napi::CallbackInfo& info, size_t i) {
    return static_cast<int64_t>(ArgNumber(info, i, "nowMs", -kMaxClockMs, kMaxClockMs));
  }
  Napi::Value Push(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    video::Vp8Depacketizer& d = core(env);
    ByteView p = ArgBytes(info, 0, "packet");
    const int64_t now = Clock(info, 1);
    const video::Vp8Status st = d.Push(p.data, p.size, now);
    if (st != video::Vp8Status::kOk) ThrowVp8(env, st);
    return Napi::Number::New(env, static_cast<double>(d.ready_frames()));
  }
  Napi::Value Poll(const Napi::CallbackInfo& info) {
    video::Vp8Depacketizer& d = core(info.Env());
    d.Poll(Clock(info, 0));
    return Napi::Number::New(info.Env(), static_cast<double>(d.ready_frames()));
  }
  Napi::Value Pop(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    video::Vp8Frame f;
    if (!core(env).PopFrame(&f)) return env.Null();
    Napi::Object o = Napi::Object::New(env);
    o.Set("data", Napi::Buffer<uint8_t>::Copy(env, f.data.data(), f.data.size()));
    o.Set("timestamp", Napi::Number::New(env, f.timestamp));
    o.Set("ssrc", Napi::Number::New(env, f.ssrc));
    o.Set("keyframe", Napi::Boolean::New(env, f.keyframe));
    o.Set("width", Napi::Number::New(env, f.width));
    o.Set("height", Napi::Number::New(env, f.height));
    o.Set("pictureId", Napi::Number::New(env, f.picture_id));
    o.Set("firstSequence", Napi::Number::New(env, f.first_sequence));
    o.Set("lastSequence", Napi::Number::New(env, f.last_sequence));
    o.Set("packets", Napi::Number::New(env, f.packets));
    o.Set("firstArrivalMs", Napi::Number::New(env, static_cast<double>(f.first_arrival_ms)));
    o.Set("lastArrivalMs", Napi::Number::New(env, static_cast<double>(f.last_arrival_ms)));
    return o;
  }
  Napi::Value Feedback(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    video::Vp8Depacketizer& d = core(env);
    const int64_t now = Clock(info, 0);
    const uint32_t sender = static_cast<uint32_t>(ArgInteger(info, 1, "senderSsrc", 0, 0xFFFFFFFFll));
    const int64_t media = info.Length() > 2 && !info[2].IsUndefined() && !info[2].IsNull()
                              ? ArgInteger(info, 2, "mediaSsrc", 0, 0xFFFFFFFFll)
                              : -1;
    rtcp_.clear();
    if (!d.BuildFeedback(now, sender, &rtcp_, media)) return env.Null();
    return CopyToUint8Array(env, rtcp_.data(), rtcp_.size());
  }
  Napi::Value NextDeadline(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(core(info.Env()).NextDeadlineMs()));
  }
  Napi::Value RequestKeyframe(const Napi::CallbackInfo& info) {
    core(info.Env()).RequestKeyframe();
    return info.Env().Undefined();
  }
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const video::Vp8DepacketizerStats s = core(env).stats();
    Napi::Object o = Napi::Object::New(env);
    auto num = [&](const char* k, double v) { o.Set(k, Napi::Number::New(env, v)); };
    num("packets", static_cast<double>(s.packets));
    num("duplicates", static_cast<double>(s.duplicates));
    num("late", static_cast<double>(s.late));
    num("malformed", static_cast<double>(s.malformed));
    num("frames", static_cast<double>(s.frames));
    num("keyframes", static_cast<double>(s.keyframes));
    num("framesDropped", static_cast<double>(s.frames_dropped));
    num("packetsDropped", static_cast<double>(s.packets_dropped));
    num("gapsLost", static_cast<double>(s.gaps_lost));
    num("resets", static_cast<double>(s.resets));
    num("bufferedPackets", static_cast<double>(s.buffered_packets));
    o.Set("waitingForKeyframe", Napi::Boolean::New(env, s.waiting_for_keyframe));
    num("nacked", static_cast<double>(s.loss.nacked));
    num("recovered", static_cast<double>(s.loss.recovered));
    num("nackGiveUps", static_cast<double>(s.loss.nack_give_ups));
    num("plis", static_cast<double>(s.loss.plis));
    num("nackList", static_cast<double>(s.loss.nack_list));
    return o;
  }
  Napi::Value Reset(const Napi::CallbackInfo& info) {
    core(info.Env()).Reset();
    return info.Env().Undefined();
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    dp_.reset();
    return info.Env().Undefined();
  }

  std::unique_ptr<video::Vp8Depacketizer> dp_;
  std::vector<uint8_t> rtcp_;
};

}  // namespace

void InitVp8Depacketizer(Napi::Env env, Napi::Object exports) {
  exports.Set("Vp8Depacketizer", Vp8DepacketizerWrap::Define(env));
}

}  // namespace sw
