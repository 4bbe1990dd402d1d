// JS binding of core/audio/audio_sender (JS thread only). pull() returns the due RTP packets as new
// Uint8Arrays; lastTransitions() returns the on-the-wire speaking transitions of the last pull (or null).
//
// Worker mode (options.onPackets is a function): pull() does the slot bookkeeping on the JS thread and
// submits the Opus encode + packetization of the due slots to this sender's worker lane (worker_owner.h);
// it returns an empty array and the packets reach onPackets({ packets, dueMs }) on the JS thread, in order.
// Queues: the job lane is drop-oldest, workerQueueBatches (default 8, ~160 ms of 20 ms slots); a batch it
// drops is a gap the stage turns into a timestamp jump with a marker (a pause to the receiver). The result
// mailbox is drop-oldest, max(16, 2 x workerQueueBatches) batches; a batch dropped there is packet loss to
// the receiver (its sequence numbers were used), which only happens when the JS thread stalls for more
// than ~300 ms.
#include <napi.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "binding/audio_wrap_util.h"
#include "binding/errors.h"
#include "binding/worker_owner.h"
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
                           InstanceMethod("workerStats", &AudioSenderWrap::WorkerStats),
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
    Napi::Function onPackets;
    if (HasField(o, "onPackets")) {
      if (!o.Get("onPackets").IsFunction())
        ThrowTypeError(env, kErrInvalidArg, "onPackets must be a function");
      onPackets = o.Get("onPackets").As<Napi::Function>();
    }
    const auto jobCapacity = static_cast<size_t>(FieldInteger(o, "workerQueueBatches", 8, 1, 1000));
    tx_ = GuardCore(env, [&] { return std::make_unique<audio::AudioSender>(so); });
    if (!onPackets.IsEmpty()) {
      tx_->setDeferred(true);
      Owner::Options oo;
      // Urgent: an audio batch runs before any waiting video frame (docs/native-workers.md).
      oo.jobs = work::QueueOptions{jobCapacity, work::QueuePolicy::kDropOldest, true};
      oo.results = work::QueueOptions{std::max<size_t>(16, 2 * jobCapacity), work::QueuePolicy::kDropOldest};
      oo.name = "small-webrtc AudioSender";
      owner_ = std::make_unique<Owner>(env, onPackets, oo, &PacketsToJs);
    }
  }

  ~AudioSenderWrap() override {
    // Also the path of a sender garbage-collected without close(): queued batches are cancelled, the
    // ThreadSafeFunction released; a batch being encoded finishes on its thread and frees the stage.
    if (owner_) owner_->close();
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
    if (owner_) {
      audio::EncodeBatch batch;
      if (s.takeBatch(&batch)) {
        // Worker thread, one batch at a time per sender (the lane's strand): the stage needs no lock.
        owner_->submit([stage = s.stage(), box = owner_->mailbox(), batch = std::move(batch)]() {
          audio::PacketBatch out;
          stage->run(batch, &out);
          if (out.size() > 0) box->post(std::move(out));
        });
      }
      return Napi::Array::New(env, 0);
    }
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
    const audio::AudioSenderStats st = s.stats();
    Napi::Object o = Napi::Object::New(env);
    o.Set("packetsSent", static_cast<double>(st.packetsSent));
    o.Set("audioPackets", static_cast<double>(st.audioPackets));
    o.Set("silencePackets", static_cast<double>(st.silencePackets));
    o.Set("dtxSlots", static_cast<double>(st.dtxSlots));
    o.Set("skippedSlots", static_cast<double>(st.skippedSlots));
    o.Set("lateSlots", static_cast<double>(st.lateSlots));
    o.Set("droppedOnWriteSamples", static_cast<double>(st.droppedOnWriteSamples));
    o.Set("encodeErrors", static_cast<double>(st.encodeErrors));
    o.Set("ringBytes", static_cast<double>(st.ringBytes));
    o.Set("nextSequence", s.nextSequence());
    o.Set("nextTimestamp", static_cast<double>(s.nextTimestamp()));
    return o;
  }
  Napi::Value WorkerStats(const Napi::CallbackInfo& info) {
    core(info.Env());
    if (!owner_) return info.Env().Null();
    return owner_->statsObject(info.Env());
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    owner_.reset();  // closes: cancels queued batches, releases the ThreadSafeFunction
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

  using Owner = WorkerOwner<audio::PacketBatch>;

  // JS thread: one worker result -> { packets: Uint8Array[], dueMs: number[] }.
  static Napi::Value PacketsToJs(Napi::Env env, audio::PacketBatch& b) {
    Napi::Array packets = Napi::Array::New(env, b.size());
    Napi::Array due = Napi::Array::New(env, b.size());
    for (size_t i = 0; i < b.size(); ++i) {
      packets.Set(static_cast<uint32_t>(i), CopyToUint8Array(env, b.bytes.data() + b.offsets[i], b.lens[i]));
      due.Set(static_cast<uint32_t>(i), b.atMs[i]);
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("packets", packets);
    o.Set("dueMs", due);
    return o;
  }

  std::unique_ptr<audio::AudioSender> tx_;
  std::unique_ptr<Owner> owner_;  // worker mode only
};

}  // namespace

void InitAudioSender(Napi::Env env, Napi::Object exports) {
  exports.Set("AudioSender", AudioSenderWrap::Define(env));
}

}  // namespace sw
