// JS binding of the video send path: VideoSenderFeedback (PLI/FIR/REMB) and the RTP clock on the JS thread,
// VideoEncodeStage (scale + colour conversion, libvpx encode, RTP packetization) on a worker lane
// (docs/native-workers.md), packets back to JS through the owner's ThreadSafeFunction.
//
// send(image, nowMs) copies the image and submits it. Frames to encode: latest-wins (a frame still waiting
// when a newer one comes is replaced: the encoder never falls behind real time). Results: drop-oldest, 8
// frames (only a JS stall of several frame times drops any). The handler gets {packets: Buffer[], keyframe,
// timestamp, frameBytes, encodeUs} or {error, timestamp}.
//
// Bitrate: the target starts at `bitrate`; a REMB from the receiver sets it to the estimate, capped by
// `maxBitrate` (and at least 30 kbit/s); setBitrate() sets the cap at run time. Keyframes: on PLI/FIR,
// spaced by minKeyframeIntervalMs; a keyframe request riding on a replaced frame is carried to the next.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "binding/audio_wrap_util.h"
#include "binding/errors.h"
#include "binding/video_wrap_util.h"
#include "binding/worker_owner.h"
#include "binding/wraps.h"
#include "core/video/video_sender_feedback.h"
#include "core/video/video_stages.h"

namespace sw {
namespace {

constexpr double kMaxClockMs = 1e15;
constexpr int kMinBitrate = 30'000;  // bit/s: below this a REMB is not followed further

void ReadMidOption(Napi::Env env, const Napi::Object& o, int* id, std::string* mid) {
  *id = 0;
  mid->clear();
  if (!HasField(o, "midExtension") || o.Get("midExtension").IsNull()) return;
  if (!o.Get("midExtension").IsObject())
    ThrowTypeError(env, kErrInvalidArg, "midExtension must be {id, mid} or null");
  Napi::Object m = o.Get("midExtension").As<Napi::Object>();
  *id = static_cast<int>(RequiredInteger(m, "id", 1, 14));
  if (!m.Get("mid").IsString()) ThrowTypeError(env, kErrInvalidArg, "midExtension.mid must be a string");
  *mid = m.Get("mid").As<Napi::String>().Utf8Value();
}

class VideoSenderWrap : public Napi::ObjectWrap<VideoSenderWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "VideoSender",
                       {
                           InstanceMethod("send", &VideoSenderWrap::Send),
                           InstanceMethod("onRtcp", &VideoSenderWrap::OnRtcp),
                           InstanceMethod("requestKeyframe", &VideoSenderWrap::RequestKeyframe),
                           InstanceMethod("setMaxBitrate", &VideoSenderWrap::SetMaxBitrate),
                           InstanceMethod("stats", &VideoSenderWrap::Stats),
                           InstanceMethod("workerStats", &VideoSenderWrap::WorkerStats),
                           InstanceMethod("close", &VideoSenderWrap::Close),
                       });
  }

  explicit VideoSenderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<VideoSenderWrap>(info) {
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
    max_bitrate_ = static_cast<int>(FieldInteger(o, "maxBitrate", e.bitrate, 10'000, 50'000'000));
    target_bitrate_ = std::min(e.bitrate, max_bitrate_);
    e.bitrate = target_bitrate_;
    video::Vp8PacketizerOptions p;
    p.ssrc = static_cast<uint32_t>(RequiredInteger(o, "ssrc", 0, 0xFFFFFFFFll));
    p.payload_type = static_cast<uint8_t>(RequiredInteger(o, "payloadType", 0, 127));
    p.initial_sequence = static_cast<uint16_t>(FieldInteger(o, "initialSequence", 0, 0, 0xFFFF));
    p.initial_picture_id = static_cast<uint16_t>(FieldInteger(o, "initialPictureId", 0, 0, 0x7FFF));
    p.mtu = static_cast<size_t>(FieldInteger(o, "mtu", 1200, 64, 65507));
    ReadMidOption(env, o, &p.mid_extension_id, &p.mid);
    initial_timestamp_ = static_cast<uint32_t>(FieldInteger(o, "initialTimestamp", 0, 0, 0xFFFFFFFFll));
    const int min_kf = static_cast<int>(FieldInteger(o, "minKeyframeIntervalMs", 300, 0, 60000));
    if (!o.Get("onPackets").IsFunction()) ThrowTypeError(env, kErrInvalidArg, "onPackets must be a function");
    stage_ = GuardCore(env, [&] { return std::make_shared<video::VideoEncodeStage>(e, p); });
    feedback_ = std::make_unique<video::VideoSenderFeedback>(p.ssrc, min_kf);
    Owner::Options oo;
    oo.jobs = work::QueueOptions{1, work::QueuePolicy::kLatestWins};
    oo.results = work::QueueOptions{8, work::QueuePolicy::kDropOldest};
    oo.name = "small-webrtc VideoSender";
    oo.background = true;  // video yields the cores to audio (WorkerPoolFor)
    owner_ = std::make_unique<Owner>(env, o.Get("onPackets").As<Napi::Function>(), oo, &PacketsToJs);
  }

  ~VideoSenderWrap() override {
    if (owner_) owner_->close();
  }

 private:
  using Owner = WorkerOwner<video::EncodedPackets>;

  void CheckOpen(Napi::Env env) const {
    if (closed_) ThrowClosed(env, "VideoSender");
  }

  // send(image, nowMs, keyframe?) -> true when submitted (false after close).
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    if (!info[0].IsObject()) ThrowTypeError(env, kErrInvalidArg, "image must be an image object");
    Napi::Object img = info[0].As<Napi::Object>();
    video::EncodeRequest req;
    ByteView data = ToBytes(env, img.Get("data"), "image.data");
    req.width =
        static_cast<int>(ToInteger(env, img.Get("width"), "image.width", 1, video::kMaxVideoDimension));
    req.height =
        static_cast<int>(ToInteger(env, img.Get("height"), "image.height", 1, video::kMaxVideoDimension));
    req.format = ToPixelFormat(env, img.Get("format"), "image.format");
    const size_t want = video::ImageBytes(req.format, req.width, req.height);
    if (data.size != want) {
      ThrowRangeError(env, kErrInvalidArg,
                      "image.data must hold " + std::to_string(want) + " bytes for " +
                          std::to_string(req.width) + "x" + std::to_string(req.height) + " " +
                          PixelFormatName(req.format) + ", got " + std::to_string(data.size));
    }
    const double now = ArgNumber(info, 1, "nowMs", -kMaxClockMs, kMaxClockMs);
    const bool force = info.Length() > 2 && !info[2].IsUndefined() && ToBool(env, info[2], "keyframe");
    // RTP timestamp from the caller's clock (90 kHz), so pacing jitter shows up as real time to the peer.
    if (!has_first_ms_) {
      has_first_ms_ = true;
      first_ms_ = now;
    }
    req.timestamp = initial_timestamp_ +
                    static_cast<uint32_t>(static_cast<int64_t>(std::llround((now - first_ms_) * 90.0)));
    // A keyframe request on a frame still waiting would vanish with it when this one replaces it.
    const bool replacing = owner_->jobStats().depth > 0;
    req.keyframe = force || feedback_->TakeKeyframeRequest(static_cast<int64_t>(now)) ||
                   (replacing && last_job_keyframe_);
    req.bitrate = target_bitrate_;
    req.image.assign(data.data, data.data + data.size);
    last_job_keyframe_ = req.keyframe;
    const work::SubmitResult r = owner_->submit(
        [stage = stage_, box = owner_->mailbox(), req = std::move(req)]() { box->post(stage->Run(req)); });
    replaced_ += r.dropped;
    return Napi::Boolean::New(env, r.accepted);
  }
  Napi::Value OnRtcp(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    ByteView p = ArgBytes(info, 0, "packet");
    video::VideoFeedbackResult r;
    const rtp::RtcpStatus st = feedback_->OnRtcp(p.data, p.size, &r);
    if (r.remb_bps >= 0) {
      target_bitrate_ = static_cast<int>(std::clamp<int64_t>(r.remb_bps, kMinBitrate, max_bitrate_));
    }
    if (st != rtp::RtcpStatus::kOk) {
      ThrowRangeError(env, kErrRtcpMalformed, std::string("malformed RTCP: ") + rtp::RtcpStatusMessage(st));
    }
    return FeedbackResultToJs(env, r);
  }
  Napi::Value RequestKeyframe(const Napi::CallbackInfo& info) {
    CheckOpen(info.Env());
    feedback_->RequestKeyframe();
    return info.Env().Undefined();
  }
  Napi::Value SetMaxBitrate(const Napi::CallbackInfo& info) {
    CheckOpen(info.Env());
    max_bitrate_ = static_cast<int>(ArgInteger(info, 0, "maxBitrate", 10'000, 50'000'000));
    target_bitrate_ = std::min(target_bitrate_, max_bitrate_);
    return info.Env().Undefined();
  }
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    const video::VideoSenderFeedbackStats& s = feedback_->stats();
    Napi::Object o = Napi::Object::New(env);
    o.Set("plis", Napi::Number::New(env, static_cast<double>(s.plis)));
    o.Set("firs", Napi::Number::New(env, static_cast<double>(s.firs)));
    o.Set("nacked", Napi::Number::New(env, static_cast<double>(s.nacked)));
    o.Set("rembs", Napi::Number::New(env, static_cast<double>(s.rembs)));
    o.Set("keyframesRequested", Napi::Number::New(env, static_cast<double>(s.keyframes_granted)));
    o.Set("targetBitrate", Napi::Number::New(env, target_bitrate_));
    o.Set("maxBitrate", Napi::Number::New(env, max_bitrate_));
    o.Set("framesReplaced", Napi::Number::New(env, static_cast<double>(replaced_)));
    return o;
  }
  Napi::Value WorkerStats(const Napi::CallbackInfo& info) {
    CheckOpen(info.Env());
    return owner_->statsObject(info.Env());
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    closed_ = true;
    if (owner_) owner_->close();
    return info.Env().Undefined();
  }

  static Napi::Value PacketsToJs(Napi::Env env, video::EncodedPackets& r) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("timestamp", Napi::Number::New(env, r.timestamp));
    if (!r.ok) {
      o.Set("error", Napi::String::New(env, r.error));
      return o;
    }
    Napi::Array packets = Napi::Array::New(env, r.packets.size());
    for (size_t i = 0; i < r.packets.size(); ++i) {
      packets.Set(static_cast<uint32_t>(i), CopyToUint8Array(env, r.packets[i].data(), r.packets[i].size()));
    }
    o.Set("packets", packets);
    o.Set("keyframe", Napi::Boolean::New(env, r.keyframe));
    o.Set("frameBytes", Napi::Number::New(env, static_cast<double>(r.frame_bytes)));
    o.Set("encodeUs", Napi::Number::New(env, static_cast<double>(r.encode_us)));
    return o;
  }

  std::shared_ptr<video::VideoEncodeStage> stage_;  // used only by jobs on the worker lane
  std::unique_ptr<video::VideoSenderFeedback> feedback_;
  std::unique_ptr<Owner> owner_;
  int max_bitrate_ = 0;
  int target_bitrate_ = 0;
  uint32_t initial_timestamp_ = 0;
  bool has_first_ms_ = false;
  double first_ms_ = 0;
  bool last_job_keyframe_ = false;
  uint64_t replaced_ = 0;
  bool closed_ = false;
};

}  // namespace

void InitVideoSender(Napi::Env env, Napi::Object exports) {
  exports.Set("VideoSender", VideoSenderWrap::Define(env));
}

}  // namespace sw
