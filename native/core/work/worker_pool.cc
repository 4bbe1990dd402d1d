#include "core/work/worker_pool.h"

#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>

#if defined(__linux__)
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace sw {
namespace work {

Lane::Lane(std::shared_ptr<detail::PoolCore> pool, QueueOptions o)
    : pool_(std::move(pool)), q_(o), urgent_(o.urgent) {}

Lane::~Lane() = default;

SubmitResult Lane::submit(Task job) {
  SubmitResult r;
  std::vector<Task> dropped;  // destroyed after every lock below is released
  bool schedule = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return r;  // `job` destroyed on return, outside the lock
    q_.push(std::move(job), &dropped);
    r.accepted = true;
    r.dropped = dropped.size();
    if (!active_) {
      active_ = true;
      schedule = true;
    }
  }
  if (schedule) {
    std::unique_lock<std::mutex> plock(pool_->mu);
    if (pool_->stopping) {
      plock.unlock();
      cancelQueued();
      r.accepted = false;
      return r;
    }
    pool_->listFor(urgent_).push_back(shared_from_this());
    plock.unlock();
    pool_->cv.notify_one();
  }
  return r;
}

bool Lane::runOne() {
  Task job;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (q_.empty()) {
      // Everything was cancelled or dropped while the lane waited in the ready list.
      active_ = false;
      idle_.notify_all();
      return false;
    }
    job = q_.pop();
    running_ = true;
  }
  bool failed = false;
  try {
    job();
  } catch (...) {
    failed = true;  // a job's exception is its owner's business; the worker thread must survive it
  }
  job = Task();  // release what the job owned before reporting completion (waitIdle() callers rely on it)
  std::lock_guard<std::mutex> lock(mu_);
  running_ = false;
  q_.markCompleted(failed);
  if (!q_.empty() && !closed_) return true;  // stays active: the caller puts it back in the ready list
  active_ = false;
  idle_.notify_all();
  return false;
}

void Lane::cancelQueued() {
  std::vector<Task> cancelled;
  std::lock_guard<std::mutex> lock(mu_);
  q_.cancelAll(&cancelled);
  if (!running_) {
    active_ = false;
    idle_.notify_all();
  }
  // `cancelled` outlives the guard: destroyed after the unlock.
}

void Lane::close() {
  std::vector<Task> cancelled;
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  q_.cancelAll(&cancelled);
  // A lane still in the ready list finds its queue empty there and goes inactive (runOne).
}

bool Lane::waitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return idle_.wait_for(lock, timeout, [&] { return !active_ && !running_; });
}

bool Lane::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

QueueStats Lane::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return q_.stats();
}

WorkerPool::WorkerPool(size_t threads, PoolOptions o)
    : core_(std::make_shared<detail::PoolCore>()), options_(o) {
  threads = std::max<size_t>(threads, 1);
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this, i] { run(i); });
}

WorkerPool::~WorkerPool() { shutdown(); }

size_t WorkerPool::defaultThreads() {
  const unsigned hw = std::thread::hardware_concurrency();
  const size_t n = hw > 1 ? hw - 1 : 1;
  return std::min<size_t>(std::max<size_t>(n, 1), 8);
}

std::shared_ptr<Lane> WorkerPool::createLane(QueueOptions o) { return std::make_shared<Lane>(core_, o); }

void WorkerPool::shutdown() {
  std::lock_guard<std::mutex> guard(shutdownMu_);
  if (joined_) return;
  std::deque<std::shared_ptr<Lane>> ready;
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    core_->stopping = true;
    ready.swap(core_->ready);
    for (auto& lane : core_->urgent) ready.push_back(std::move(lane));
    core_->urgent.clear();
  }
  core_->cv.notify_all();
  for (auto& lane : ready) lane->cancelQueued();
  ready.clear();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  joined_ = true;
}

void WorkerPool::run(size_t index) {
#if defined(__linux__)
  const std::string name = options_.namePrefix + std::to_string(index);
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
  if (options_.niceIncrement > 0) {
    // PRIO_PROCESS with a thread id sets that thread's nice value only (Linux). Best effort: a failure leaves
    // the thread at the process's priority, which is only less polite.
    const auto tid = static_cast<id_t>(syscall(SYS_gettid));
    errno = 0;
    const int current = getpriority(PRIO_PROCESS, tid);
    if (errno == 0) setpriority(PRIO_PROCESS, tid, std::min(current + options_.niceIncrement, 19));
  }
#endif
  for (;;) {
    std::shared_ptr<Lane> lane;
    {
      std::unique_lock<std::mutex> lock(core_->mu);
      core_->cv.wait(lock,
                     [&] { return core_->stopping || !core_->urgent.empty() || !core_->ready.empty(); });
      if (core_->stopping) return;
      auto& list = core_->urgent.empty() ? core_->ready : core_->urgent;
      lane = std::move(list.front());
      list.pop_front();
    }
    if (lane->runOne()) {
      std::unique_lock<std::mutex> lock(core_->mu);
      if (core_->stopping) {
        lock.unlock();
        lane->cancelQueued();
        continue;
      }
      // Back of its line: round-robin between owners of the same urgency.
      const bool urgent = lane->urgent_;
      core_->listFor(urgent).push_back(std::move(lane));
      lock.unlock();
      core_->cv.notify_one();
    }
  }
}

}  // namespace work
}  // namespace sw
