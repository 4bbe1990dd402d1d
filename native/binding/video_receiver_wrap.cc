// JS binding of the video receive path: Vp8Depacketizer on the JS thread, VideoDecodeStage (libvpx decode,
// downscale, colour conversion) on a worker lane (docs/native-workers.md), images back to JS through the
// owner's ThreadSafeFunction.
//
// push(packet, nowMs) costs microseconds (depacketizing only); each whole frame is submitted to the lane.
// Frames to decode: drop-oldest, `decodeQueue` frames (a dropped frame breaks the reference chain, so a
// keyframe is requested at once). Results: latest-wins (a slow reader sees only the newest image, never a
// growing backlog). Decimation (`fps`) is decided here from the RTP timestamps: frames in between are
// decoded (references) but not converted; requestImage() converts the next one regardless.
//
// The handler gets {image: {data, width, height, format}, timestamp, ssrc, keyframe, decodeUs, convertUs}
// or {error, timestamp, ssrc} when libvpx refused a frame (the TS class then requests a keyframe).
#include <napi.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "binding/audio_wrap_util.h"
#include "binding/errors.h"
#include "binding/video_wrap_util.h"
#include "binding/worker_owner.h"
#include "binding/wraps.h"
#include "core/video/video_stages.h"
#include "core/video/vp8_depacketizer.h"

namespace sw {
namespace {

constexpr double kMaxClockMs = 1e15;
constexpr uint32_t kVideoClockRate = 90000;  // Hz, RTP clock of every video codec

class VideoReceiverWrap : public Napi::ObjectWrap<VideoReceiverWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "VideoReceiver",
                       {
                           InstanceMethod("push", &VideoReceiverWrap::Push),
                           InstanceMethod("poll", &VideoReceiverWrap::Poll),
                           InstanceMethod("feedback", &VideoReceiverWrap::Feedback),
                           InstanceMethod("nextDeadlineMs", &VideoReceiverWrap::NextDeadline),
                           InstanceMethod("requestKeyframe", &VideoReceiverWrap::RequestKeyframe),
                           InstanceMethod("requestImage", &VideoReceiverWrap::RequestImage),
                           InstanceMethod("setOutput", &VideoReceiverWrap::SetOutput),
                           InstanceMethod("stats", &VideoReceiverWrap::Stats),
                           InstanceMethod("workerStats", &VideoReceiverWrap::WorkerStats),
                           InstanceMethod("close", &VideoReceiverWrap::Close),
                       });
  }

  explicit VideoReceiverWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<VideoReceiverWrap>(info) {
    Napi::Env env = info.Env();
    Napi::Object o = ArgObject(info, 0, "options");
    const video::Vp8DepacketizerOptions d = ReadDepacketizerOptions(o);
    ReadOutput(env, o);
    const int threads = static_cast<int>(FieldInteger(o, "threads", 1, 1, 8));
    const auto queue = static_cast<size_t>(FieldInteger(o, "decodeQueue", 4, 1, 100));
    if (!o.Get("onFrame").IsFunction()) ThrowTypeError(env, kErrInvalidArg, "onFrame must be a function");
    dp_ = GuardCore(env, [&] { return std::make_unique<video::Vp8Depacketizer>(d); });
    stage_ = GuardCore(env, [&] { return std::make_shared<video::VideoDecodeStage>(threads); });
    Owner::Options oo;
    oo.jobs = work::QueueOptions{queue, work::QueuePolicy::kDropOldest};
    oo.results = work::QueueOptions{1, work::QueuePolicy::kLatestWins};
    oo.name = "small-webrtc VideoReceiver";
    oo.background = true;  // video yields the cores to audio (WorkerPoolFor)
    owner_ = std::make_unique<Owner>(env, o.Get("onFrame").As<Napi::Function>(), oo, &ImageToJs);
  }

  ~VideoReceiverWrap() override {
    // Also the path of a receiver collected without close(): queued frames are cancelled; a frame being
    // decoded finishes on its thread and the last job frees the stage.
    if (owner_) owner_->close();
  }

 private:
  using Owner = WorkerOwner<video::DecodedImage>;

  video::Vp8Depacketizer& core(Napi::Env env) {
    if (!dp_) ThrowClosed(env, "VideoReceiver");
    return *dp_;
  }
  static int64_t Clock(const Napi::CallbackInfo& info, size_t i) {
    return static_cast<int64_t>(ArgNumber(info, i, "nowMs", -kMaxClockMs, kMaxClockMs));
  }
  // format / maxWidth / fps fields of an options object (absent fields keep their value).
  void ReadOutput(Napi::Env env, const Napi::Object& o) {
    if (HasField(o, "format")) request_.format = ToPixelFormat(env, o.Get("format"), "format");
    request_.max_width =
        static_cast<int>(FieldInteger(o, "maxWidth", request_.max_width, 0, video::kMaxVideoDimension));
    fps_ = FieldNumber(o, "fps", fps_, 0, 240);
  }
  // Submits every frame the depacketizer completed; returns how many.
  size_t SubmitReady() {
    size_t n = 0;
    video::Vp8Frame f;
    while (dp_->PopFrame(&f)) {
      video::DecodeRequest req = request_;
      req.convert = WantImage(f.timestamp);
      auto job = [stage = stage_, box = owner_->mailbox(), frame = std::move(f), req]() {
        video::DecodedImage img = stage->Run(frame.data.data(), frame.data.size(), frame.timestamp,
                                             frame.ssrc, frame.keyframe, req);
        // Decoded-only frames (decimated) produce nothing for JS.
        if (img.status == video::DecodedImage::Status::kImage ||
            img.status == video::DecodedImage::Status::kError) {
          box->post(std::move(img));
        }
      };
      const work::SubmitResult r = owner_->submit(std::move(job));
      if (r.dropped > 0) {
        // A frame never decoded: the following delta frames reference it, so they are skipped until the
        // keyframe asked for here arrives (decoded, they would be corrupt pictures).
        dropped_ += r.dropped;
        stage_->DiscardUntilKeyframe();
        dp_->RequestKeyframe();
      }
      ++n;
    }
    return n;
  }
  // Decimation: convert when `fps` allows it (RTP time since the last converted frame), or on request.
  bool WantImage(uint32_t ts) {
    bool want = snapshot_ || fps_ <= 0 || !has_last_image_ts_;
    if (!want) {
      const uint32_t elapsed = ts - last_image_ts_;  // modulo 2^32: RTP timestamps wrap
      // A backwards step (elapsed beyond half the range) is a new timeline: take the frame.
      want = elapsed >= kVideoClockRate / fps_ * 0.999 || elapsed > 0x80000000u;
    }
    if (want) {
      snapshot_ = false;
      has_last_image_ts_ = true;
      last_image_ts_ = ts;
    }
    return want;
  }

  Napi::Value Push(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    video::Vp8Depacketizer& d = core(env);
    ByteView p = ArgBytes(info, 0, "packet");
    const video::Vp8Status st = d.Push(p.data, p.size, Clock(info, 1));
    if (st != video::Vp8Status::kOk) ThrowVp8(env, st);
    return Napi::Number::New(env, static_cast<double>(SubmitReady()));
  }
  Napi::Value Poll(const Napi::CallbackInfo& info) {
    core(info.Env()).Poll(Clock(info, 0));
    return Napi::Number::New(info.Env(), static_cast<double>(SubmitReady()));
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
  Napi::Value RequestImage(const Napi::CallbackInfo& info) {
    core(info.Env());
    snapshot_ = true;
    return info.Env().Undefined();
  }
  Napi::Value SetOutput(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    core(env);
    ReadOutput(env, ArgObject(info, 0, "output"));
    return env.Undefined();
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
    num("gapsLost", static_cast<double>(s.gaps_lost));
    num("nacked", static_cast<double>(s.loss.nacked));
    num("plis", static_cast<double>(s.loss.plis));
    num("decodeQueueDropped", static_cast<double>(dropped_));
    num("skippedUntilKeyframe", static_cast<double>(stage_ ? stage_->skippedUntilKeyframe() : 0));
    o.Set("waitingForKeyframe", Napi::Boolean::New(env, s.waiting_for_keyframe));
    return o;
  }
  Napi::Value WorkerStats(const Napi::CallbackInfo& info) {
    core(info.Env());
    return owner_->statsObject(info.Env());
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (owner_) owner_->close();
    dp_.reset();
    return info.Env().Undefined();
  }

  // JS thread: one worker result -> the handler's argument. The image bytes are handed over, not copied.
  static Napi::Value ImageToJs(Napi::Env env, video::DecodedImage& r) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("timestamp", Napi::Number::New(env, r.timestamp));
    o.Set("ssrc", Napi::Number::New(env, r.ssrc));
    if (r.status == video::DecodedImage::Status::kError) {
      o.Set("error", Napi::String::New(env, r.error));
      return o;
    }
    auto* bytes = new std::vector<uint8_t>(std::move(r.data));
    Napi::Buffer<uint8_t> data = Napi::Buffer<uint8_t>::New(
        env, bytes->data(), bytes->size(), [](Napi::Env, uint8_t*, std::vector<uint8_t>* v) { delete v; },
        bytes);
    o.Set("image", MakeImage(env, data, r.width, r.height, r.format));
    o.Set("keyframe", Napi::Boolean::New(env, r.keyframe));
    o.Set("decodeUs", Napi::Number::New(env, static_cast<double>(r.decode_us)));
    o.Set("convertUs", Napi::Number::New(env, static_cast<double>(r.convert_us)));
    return o;
  }

  std::unique_ptr<video::Vp8Depacketizer> dp_;
  std::shared_ptr<video::VideoDecodeStage> stage_;  // used only by jobs on the worker lane
  std::unique_ptr<Owner> owner_;
  video::DecodeRequest request_;
  double fps_ = 0;  // 0: convert every frame
  bool snapshot_ = false;
  bool has_last_image_ts_ = false;
  uint32_t last_image_ts_ = 0;
  uint64_t dropped_ = 0;
  std::vector<uint8_t> rtcp_;
};

}  // namespace

void InitVideoReceiver(Napi::Env env, Napi::Object exports) {
  exports.Set("VideoReceiver", VideoReceiverWrap::Define(env));
}

}  // namespace sw
