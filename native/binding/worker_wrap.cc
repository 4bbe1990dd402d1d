// The env's WorkerPools (the threads behind every WorkerOwner, see worker_owner.h: one for audio and other
// deadline-bound work, one at a lower priority for video) and workerPoolInfo(), which
// reports it to JS. JS thread only, except the live counters (atomics, decremented wherever the last
// reference to a mailbox drops).
#include <napi.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "binding/worker_owner.h"
#include "binding/wraps.h"

namespace sw {
namespace {

// Per env (main thread or a worker_threads Worker): the pool is created on first use and shut down by an
// env cleanup hook, so an env that never sends work off-thread starts no threads.
struct EnvWorkers {
  std::unique_ptr<work::WorkerPool> pool;        // audio and everything not marked background
  std::unique_ptr<work::WorkerPool> background;  // video decode/encode, at a lower priority (see PoolOptions)
};

EnvWorkers& ForEnv(Napi::Env env) {
  EnvWorkers* w = env.GetInstanceData<EnvWorkers>();
  if (w == nullptr) {
    w = new EnvWorkers();
    env.SetInstanceData<EnvWorkers>(w);  // deleted by node-addon-api at env teardown
    // Env teardown (process exit, Worker exit): cancel queued jobs and join the threads before the env's
    // ThreadSafeFunctions and instance data go away. Jobs only ever reach JS through a mailbox whose
    // ThreadSafeFunction finalizer closes it, so the order of the two cleanups does not matter.
    env.AddCleanupHook([w] {
      if (w->pool) w->pool->shutdown();
      if (w->background) w->background->shutdown();
    });
  }
  return *w;
}

size_t ConfiguredThreads() {
  const char* v = std::getenv("SMALL_WEBRTC_WORKER_THREADS");
  if (v != nullptr && *v != '\0') {
    char* end = nullptr;
    const long n = std::strtol(v, &end, 10);
    if (end != v && *end == '\0' && n >= 1 && n <= 64) return static_cast<size_t>(n);
  }
  return work::WorkerPool::defaultThreads();
}

// The background pool's nice increment: SMALL_WEBRTC_VIDEO_WORKER_NICE (0..19), default 10.
int ConfiguredBackgroundNice() {
  const char* v = std::getenv("SMALL_WEBRTC_VIDEO_WORKER_NICE");
  if (v != nullptr && *v != '\0') {
    char* end = nullptr;
    const long n = std::strtol(v, &end, 10);
    if (end != v && *end == '\0' && n >= 0 && n <= 19) return static_cast<int>(n);
  }
  return 10;
}

Napi::Value WorkerPoolInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnvWorkers& w = ForEnv(env);
  Napi::Object o = Napi::Object::New(env);
  o.Set("started", w.pool != nullptr);
  o.Set("threads", static_cast<double>(w.pool ? w.pool->threads() : ConfiguredThreads()));
  o.Set("videoStarted", w.background != nullptr);
  o.Set("videoThreads", static_cast<double>(w.background ? w.background->threads() : ConfiguredThreads()));
  o.Set("videoNice", static_cast<double>(ConfiguredBackgroundNice()));
  o.Set("liveReceivers", static_cast<double>(LiveWorkerReceivers().load()));
  o.Set("liveMailboxes", static_cast<double>(LiveWorkerMailboxes().load()));
  return o;
}

}  // namespace

std::atomic<int64_t>& LiveWorkerReceivers() {
  static std::atomic<int64_t> n{0};
  return n;
}

std::atomic<int64_t>& LiveWorkerMailboxes() {
  static std::atomic<int64_t> n{0};
  return n;
}

work::WorkerPool& WorkerPoolFor(Napi::Env env, bool background) {
  EnvWorkers& w = ForEnv(env);
  if (background) {
    if (!w.background) {
      work::PoolOptions o;
      o.namePrefix = "sw-video-";
      o.niceIncrement = ConfiguredBackgroundNice();
      w.background = std::make_unique<work::WorkerPool>(ConfiguredThreads(), o);
    }
    return *w.background;
  }
  if (!w.pool) w.pool = std::make_unique<work::WorkerPool>(ConfiguredThreads());
  return *w.pool;
}

void InitWorkers(Napi::Env env, Napi::Object exports) {
  exports.Set("workerPoolInfo", Napi::Function::New(env, WorkerPoolInfo, "workerPoolInfo"));
}

}  // namespace sw
