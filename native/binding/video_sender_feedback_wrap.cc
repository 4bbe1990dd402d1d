// JS binding of core/video/video_sender_feedback (JS thread only). onRtcp(packet) reads the peer's
// RTCP and returns {keyframeRequested, rembBps, nacked}; takeKeyframeRequest(nowMs) says whether the next
// frame should be a keyframe. Malformed RTCP throws RangeError ERR_RTCP_MALFORMED (what was parsed before
// the error still counts).
#include <napi.h>

#include <memory>
#include <string>

#include "binding/audio_wrap_util.h"
#include "binding/errors.h"
#include "binding/video_wrap_util.h"
#include "binding/wraps.h"
#include "core/video/video_sender_feedback.h"

namespace sw {
namespace {

constexpr double kMaxClockMs = 1e15;

class VideoSenderFeedbackWrap : public Napi::ObjectWrap<VideoSenderFeedbackWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "VideoSenderFeedback",
                       {
                           InstanceMethod("onRtcp", &VideoSenderFeedbackWrap::OnRtcp),
                           InstanceMethod("takeKeyframeRequest", &VideoSenderFeedbackWrap::Take),
                           InstanceMethod("requestKeyframe", &VideoSenderFeedbackWrap::Request),
                           InstanceMethod("setSsrc", &VideoSenderFeedbackWrap::SetSsrc),
                           InstanceMethod("stats", &VideoSenderFeedbackWrap::Stats),
                       });
  }

  explicit VideoSenderFeedbackWrap(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<VideoSenderFeedbackWrap>(info) {
    Napi::Object o = ArgObject(info, 0, "options");
    const uint32_t ssrc = static_cast<uint32_t>(RequiredInteger(o, "ssrc", 0, 0xFFFFFFFFll));
    const int interval = static_cast<int>(FieldInteger(o, "minKeyframeIntervalMs", 300, 0, 60000));
    fb_ = std::make_unique<video::VideoSenderFeedback>(ssrc, interval);
  }

 private:
  Napi::Value OnRtcp(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ByteView p = ArgBytes(info, 0, "packet");
    video::VideoFeedbackResult r;
    const rtp::RtcpStatus st = fb_->OnRtcp(p.data, p.size, &r);
    if (st != rtp::RtcpStatus::kOk) {
      ThrowRangeError(env, kErrRtcpMalformed, std::string("malformed RTCP: ") + rtp::RtcpStatusMessage(st));
    }
    return FeedbackResultToJs(env, r);
  }
  Napi::Value Take(const Napi::CallbackInfo& info) {
    const int64_t now = static_cast<int64_t>(ArgNumber(info, 0, "nowMs", -kMaxClockMs, kMaxClockMs));
    return Napi::Boolean::New(info.Env(), fb_->TakeKeyframeRequest(now));
  }
  Napi::Value Request(const Napi::CallbackInfo& info) {
    fb_->RequestKeyframe();
    return info.Env().Undefined();
  }
  Napi::Value SetSsrc(const Napi::CallbackInfo& info) {
    fb_->SetSsrc(static_cast<uint32_t>(ArgInteger(info, 0, "ssrc", 0, 0xFFFFFFFFll)));
    return info.Env().Undefined();
  }
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const video::VideoSenderFeedbackStats& s = fb_->stats();
    Napi::Object o = Napi::Object::New(env);
    o.Set("plis", Napi::Number::New(env, static_cast<double>(s.plis)));
    o.Set("firs", Napi::Number::New(env, static_cast<double>(s.firs)));
    o.Set("nacked", Napi::Number::New(env, static_cast<double>(s.nacked)));
    o.Set("rembs", Napi::Number::New(env, static_cast<double>(s.rembs)));
    o.Set("keyframesGranted", Napi::Number::New(env, static_cast<double>(s.keyframes_granted)));
    o.Set("lastRembBps",
          s.last_remb_bps < 0 ? env.Null() : Napi::Number::New(env, static_cast<double>(s.last_remb_bps)));
    return o;
  }

  std::unique_ptr<video::VideoSenderFeedback> fb_;
};

}  // namespace

void InitVideoSenderFeedback(Napi::Env env, Napi::Object exports) {
  exports.Set("VideoSenderFeedback", VideoSenderFeedbackWrap::Define(env));
}

}  // namespace sw
