// The native worker facility: a pool of worker threads running jobs from per-owner Lanes. Pure C++17, no
// N-API; the binding adds the way back to JS (native/binding/worker_owner.h). Contract in full:
// docs/native-workers.md.
//
// Threads. WorkerPool owns N std::threads (named "sw-worker-K"). Lane::submit(), Lane::close() and
// WorkerPool::shutdown() may be called from any thread except a worker thread running a job of the same
// pool (shutdown() joins). Jobs run on worker threads.
//
// Lanes (one per owner, e.g. one per AudioSender or video decoder). A lane is a bounded job queue with a
// policy (bounded_queue.h) and a strand: at most one job of a lane runs at a time, in submission order,
// so a job may use its owner's codec state without a lock. Different lanes run in parallel on different
// threads; the pool serves ready lanes round-robin, one job per turn, so a busy owner cannot starve others.
// Urgent lanes (QueueOptions::urgent: audio) are served before every other lane, round-robin among
// themselves: a 20 ms audio packet never waits behind a queue of video frames (each several ms).
//
// Ownership. Lanes are shared_ptrs: the owner holds one, the pool holds one while the lane has work, and a
// lane holds the pool's shared core, so lanes and pool can be destroyed in any order. A job owns what it
// needs (typically a shared_ptr to its owner's state) and is destroyed right after it runs, or unrun when
// the policy drops it, the lane closes or the pool shuts down: nothing is leaked on any path.
//
// Shutdown. Lane::close() cancels the lane's waiting jobs and refuses new ones; it does not wait for a
// running job (waitIdle() does, for tests and blocking owners). WorkerPool::shutdown() (also the
// destructor) refuses new work, cancels every waiting job of every lane and joins the threads once their
// current jobs return. A job that throws is counted as failed; the exception never leaves the thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/work/bounded_queue.h"
#include "core/work/task.h"

namespace sw {
namespace work {

class Lane;

namespace detail {
// The part of the pool that lanes keep alive: the ready list and its lock.
struct PoolCore {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::shared_ptr<Lane>> urgent;  // ready urgent lanes, served first
  std::deque<std::shared_ptr<Lane>> ready;
  bool stopping = false;
  std::deque<std::shared_ptr<Lane>>& listFor(bool is_urgent) { return is_urgent ? urgent : ready; }
};
}  // namespace detail

/** What Lane::submit() did with a job. */
struct SubmitResult {
  bool accepted = false;  // false: the lane is closed or the pool shut down (the job was destroyed unrun)
  size_t dropped = 0;     // waiting jobs the policy dropped to make room for this one
};

class Lane : public std::enable_shared_from_this<Lane> {
 public:
  Lane(std::shared_ptr<detail::PoolCore> pool, QueueOptions o);
  Lane(const Lane&) = delete;
  Lane& operator=(const Lane&) = delete;
  ~Lane();

  /** Queues `job` under the lane's policy. Any thread (see the file comment). */
  SubmitResult submit(Task job);
  /** Cancels waiting jobs, refuses new ones; a running job finishes. Idempotent, never blocks on a job. */
  void close();
  /** Waits until no job of this lane is queued or running, up to `timeout`; true when idle. */
  bool waitIdle(std::chrono::milliseconds timeout);
  bool closed() const;
  QueueStats stats() const;

 private:
  friend class WorkerPool;
  // Worker side: runs one job if any; returns true when the lane must be scheduled again.
  bool runOne();
  // Pool shutdown: cancels waiting jobs (the lane stays usable only for close/stats).
  void cancelQueued();

  std::shared_ptr<detail::PoolCore> pool_;
  mutable std::mutex mu_;
  std::condition_variable idle_;
  BoundedQueue<Task> q_;
  bool active_ = false;   // in the pool's ready list or a job of it running
  bool running_ = false;  // a job of it running right now
  bool closed_ = false;
  const bool urgent_;
};

/** How a pool's threads are named and scheduled. */
struct PoolOptions {
  const char* namePrefix = "sw-worker-";  // thread names: prefix + index (Linux limits names to 15 chars)
  // Added to each thread's nice value when it starts (Linux, per thread; 0 = as the process). A background
  // pool (video) at +10 gets about a tenth of a core's share when it competes with the JS thread and the
  // audio pool, so a machine full of video slows the video, not the audio. An unprivileged thread cannot
  // lower its nice value again, so the priority is per pool, never per job.
  int niceIncrement = 0;
};

class WorkerPool {
 public:
  /** Starts `threads` (>= 1) worker threads. */
  explicit WorkerPool(size_t threads, PoolOptions o = {});
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  std::shared_ptr<Lane> createLane(QueueOptions o);
  /** Idempotent; see the file comment. Never call it from one of this pool's worker threads. */
  void shutdown();
  size_t threads() const { return threads_.size(); }

  /** Default thread count: hardware threads - 1 (the JS thread keeps one core), clamped to [1, 8]. */
  static size_t defaultThreads();

 private:
  void run(size_t index);

  std::shared_ptr<detail::PoolCore> core_;
  const PoolOptions options_;
  std::vector<std::thread> threads_;
  std::mutex shutdownMu_;
  bool joined_ = false;
};

}  // namespace work
}  // namespace sw
