// The N-API side of the worker facility (core: native/core/work/worker_pool.h, mailbox.h). Contract in full:
// docs/native-workers.md.
//
// WorkerOwner<Result> is embedded in an ObjectWrap that sends work off the JS thread (one per owner: an
// AudioSender, a video decoder...). It owns:
//  - a Lane on the env's WorkerPool (bounded job queue with the owner's policy, jobs run one at a time in
//    order, so a job may use the owner's codec state without a lock);
//  - a Mailbox<Result> (bounded result queue with its own policy) that jobs post() results to, from the
//    worker thread;
//  - ONE Napi::ThreadSafeFunction, the only way back to JS: a post() to an empty mailbox makes one
//    non-blocking call; on the JS thread that call drains the mailbox and calls the owner's handler once per
//    result. Worker threads never touch JS values.
//
// Threads: construct, submit(), close(), stats and the destructor on the JS thread only. Results are built
// on worker threads as plain C++ values (Result) and converted to JS by `toJs` on the JS thread.
//
// Lifetime and shutdown, every path without a leak:
//  - close() (the owner's close(), or its destructor when the JS object is garbage-collected): cancels
//    queued jobs, closes the mailbox (so no worker calls the ThreadSafeFunction afterwards, see mailbox.h)
//    and releases the ThreadSafeFunction. A job still running finishes; its result is dropped. Jobs hold
//    their state through shared_ptrs, so the last of them frees it, wherever that happens.
//  - the handler is held WEAKLY: the owner's JS object must keep it reachable (the TS class holds it in a
//    private field). A strong reference would be a GC root keeping the TS owner, and with it this wrap,
//    alive forever when the user forgets close().
//  - the ThreadSafeFunction is unref'd: pending work never keeps the process alive by itself.
//  - env teardown (process exit): the pool's cleanup hook cancels queued jobs and joins the threads; the
//    ThreadSafeFunction finalizer closes the mailbox, frees the JS-side receiver and tells the owner not to
//    release the (by then freed) ThreadSafeFunction when Node finalizes the wrap afterwards.
#pragma once

#include <napi.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>

#include "binding/errors.h"
#include "core/work/mailbox.h"
#include "core/work/worker_pool.h"

namespace sw {

/**
 * The env's worker pool, started on first use (SMALL_WEBRTC_WORKER_THREADS or WorkerPool::defaultThreads
 * threads), or with `background` its video pool: as many threads, named sw-video-N, at a nice value 10 higher
 * (SMALL_WEBRTC_VIDEO_WORKER_NICE), so video work yields the cores to the JS thread and the audio pool.
 */
work::WorkerPool& WorkerPoolFor(Napi::Env env, bool background = false);

/** Live WorkerOwner receivers and mailboxes in the process (a leak shows as a count that never returns to 0).
 */
std::atomic<int64_t>& LiveWorkerReceivers();
std::atomic<int64_t>& LiveWorkerMailboxes();

/** Adds the counters of a QueueStats to `o` (JS thread). */
inline void SetQueueStats(Napi::Object o, const work::QueueStats& s) {
  o.Set("queued", static_cast<double>(s.queued));
  o.Set("dropped", static_cast<double>(s.dropped));
  o.Set("cancelled", static_cast<double>(s.cancelled));
  o.Set("completed", static_cast<double>(s.completed));
  o.Set("failed", static_cast<double>(s.failed));
  o.Set("depth", static_cast<double>(s.depth));
  o.Set("maxDepth", static_cast<double>(s.maxDepth));
  o.Set("queueTimeTotalUs", s.queueTimeTotalUs);
  o.Set("queueTimeMaxUs", s.queueTimeMaxUs);
  o.Set("queueTimeLastUs", s.queueTimeLastUs);
}

template <typename Result>
class WorkerOwner {
 public:
  /** Converts one result to the value given to the handler (JS thread). */
  using ToJs = Napi::Value (*)(Napi::Env env, Result& result);

  struct Options {
    work::QueueOptions jobs;     // the lane's bound and policy
    work::QueueOptions results;  // the mailbox's bound and policy
    const char* name = "small-webrtc worker";
    bool background = false;  // run on the env's lower-priority video pool (see WorkerPoolFor)
  };

  /** A counted mailbox, so a leaked one is visible in LiveWorkerMailboxes(). */
  class Box : public work::Mailbox<Result> {
   public:
    using work::Mailbox<Result>::Mailbox;
    ~Box() { LiveWorkerMailboxes()--; }
  };

  WorkerOwner(Napi::Env env, Napi::Function handler, const Options& o, ToJs toJs)
      : lane_(WorkerPoolFor(env, o.background).createLane(o.jobs)) {
    auto* receiver = new Receiver();
    receiver->handler = Napi::Weak(handler);
    receiver->toJs = toJs;
    receiver->finalized = tsfnFinalized_;
    LiveWorkerReceivers()++;
    tsfn_ = Tsfn::New(env, o.name, 0, 1, receiver, &Receiver::Finalize, static_cast<void*>(nullptr));
    tsfn_.Unref(env);
    Tsfn tsfn = tsfn_;
    LiveWorkerMailboxes()++;
    box_ = std::make_shared<Box>(o.results, [tsfn]() {
      // Under the mailbox lock (see mailbox.h): never after close(). napi_closing during env teardown is
      // fine.
      tsfn.NonBlockingCall();
    });
    receiver->box = box_;
  }

  ~WorkerOwner() { close(); }
  WorkerOwner(const WorkerOwner&) = delete;
  WorkerOwner& operator=(const WorkerOwner&) = delete;

  /** JS thread. Jobs capture mailbox() to post their results. */
  work::SubmitResult submit(work::Task job) {
    if (closed_) return work::SubmitResult{};
    return lane_->submit(std::move(job));
  }

  /** What jobs post to (any thread). Shared: a job may outlive its owner's close(). */
  const std::shared_ptr<Box>& mailbox() const { return box_; }

  /** JS thread, idempotent. See the file comment. */
  void close() {
    if (closed_) return;
    closed_ = true;
    lane_->close();
    box_->close();  // from here on, no worker calls tsfn_
    // At env teardown Node may finalize (and free) the ThreadSafeFunction before it finalizes this wrap;
    // releasing it then would be a use after free.
    if (!*tsfnFinalized_) tsfn_.Release();
  }

  bool closed() const { return closed_; }
  work::QueueStats jobStats() const { return lane_->stats(); }
  work::QueueStats resultStats() const { return box_->stats(); }

  /** { jobs: {...}, results: {...} } with the counters of both queues (JS thread). */
  Napi::Object statsObject(Napi::Env env) const {
    Napi::Object o = Napi::Object::New(env);
    Napi::Object jobs = Napi::Object::New(env);
    SetQueueStats(jobs, jobStats());
    Napi::Object results = Napi::Object::New(env);
    SetQueueStats(results, resultStats());
    o.Set("jobs", jobs);
    o.Set("results", results);
    return o;
  }

 private:
  // JS-thread-only half: created with the owner, deleted by the ThreadSafeFunction's finalizer (JS thread),
  // which runs after release() or at env teardown, whichever comes first.
  struct Receiver {
    std::shared_ptr<Box> box;
    Napi::FunctionReference handler;  // weak
    ToJs toJs = nullptr;
    std::shared_ptr<bool> finalized;  // shared with the owner (JS thread only)

    static void CallJs(Napi::Env env, Napi::Function /*unused*/, Receiver* self, void* /*data*/) {
      if (env == nullptr || self == nullptr) return;  // teardown: the queue is being emptied
      std::vector<Result> results = self->box->drain();
      if (results.empty()) return;
      // Nothing may unwind into Node's C code from here: a failed call (the handler threw, or the env is
      // shutting down and cannot run JS any more) is handed back as a pending JS exception when possible,
      // which Node reports as uncaughtException, and dropped otherwise. The TS owners catch and log in
      // their handlers, so in practice this only happens at teardown.
      try {
        Napi::HandleScope scope(env);
        Napi::Value fn = self->handler.Value();
        if (fn.IsEmpty() || !fn.IsFunction()) return;  // the owner's JS object is gone
        for (Result& r : results) fn.As<Napi::Function>().Call({self->toJs(env, r)});
      } catch (const Napi::Error& e) {
        bool pending = false;
        if (napi_is_exception_pending(env, &pending) == napi_ok && !pending && !e.Value().IsEmpty()) {
          napi_throw(env, e.Value());  // status ignored: nothing more can be done
        }
      } catch (...) {
        // std::bad_alloc and the like: the results are dropped.
      }
    }

    static void Finalize(Napi::Env /*env*/, void* /*data*/, Receiver* self) {
      *self->finalized = true;
      self->box->close();
      LiveWorkerReceivers()--;
      delete self;
    }
  };

  using Tsfn = Napi::TypedThreadSafeFunction<Receiver, void, &Receiver::CallJs>;

  std::shared_ptr<work::Lane> lane_;
  std::shared_ptr<Box> box_;
  Tsfn tsfn_;
  std::shared_ptr<bool> tsfnFinalized_ = std::make_shared<bool>(false);
  bool closed_ = false;
};

}  // namespace sw
