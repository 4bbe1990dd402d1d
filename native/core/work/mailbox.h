// Mailbox<T>: the bounded, thread-safe queue that carries results from worker threads to one consumer (the
// JS thread, through the binding's ThreadSafeFunction). Pure C++17, no N-API.
//
// Threads: post() from any thread; drain(), close() and stats() from any thread (in the addon: the JS
// thread). Wake-up contract: `wake` is called at most once per batch: by the post() that finds the mailbox
// not yet signalled, and again only after the consumer's next drain(). It is called WITH the mailbox's lock
// held, which is what makes close() safe: once close() has returned, wake is never called again, so the
// binding may release its ThreadSafeFunction right after close() without a worker still calling into it.
// `wake` must therefore be quick and must not call back into this mailbox (napi_call_threadsafe_function in
// non-blocking mode qualifies: it only queues and signals the event loop).
// Policy: the mailbox's QueueOptions (kLatestWins for "newest result only", kDropOldest otherwise); results
// dropped by the policy or by close() are destroyed outside the lock.
#pragma once

#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "core/work/bounded_queue.h"

namespace sw {
namespace work {

template <typename T>
class Mailbox {
 public:
  using Wake = std::function<void()>;

  Mailbox(QueueOptions o, Wake wake) : q_(o), wake_(std::move(wake)) {}
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  /** Any thread. Returns false (and drops `v`) once closed. */
  bool post(T v) {
    std::vector<T> dropped;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return false;
      q_.push(std::move(v), &dropped);
      if (!signalled_) {
        signalled_ = true;
        if (wake_) wake_();
      }
    }
    return true;  // `dropped` is destroyed here, outside the lock
  }

  /** Consumer: takes every waiting result, oldest first, and re-arms the wake-up. */
  std::vector<T> drain() {
    std::vector<T> out;
    std::lock_guard<std::mutex> lock(mu_);
    signalled_ = false;
    out.reserve(q_.size());
    while (!q_.empty()) {
      out.push_back(q_.pop());
      q_.markCompleted();
    }
    return out;
  }

  /** Idempotent. Drops waiting results; after it returns, post() refuses and wake is never called again. */
  void close() {
    std::vector<T> cancelled;
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    q_.cancelAll(&cancelled);
    wake_ = nullptr;
    // `cancelled` is destroyed after the lock is released (declared before the guard).
  }

  bool closed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }

  QueueStats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return q_.stats();
  }

 private:
  mutable std::mutex mu_;
  BoundedQueue<T> q_;
  Wake wake_;
  bool signalled_ = false;
  bool closed_ = false;
};

}  // namespace work
}  // namespace sw
