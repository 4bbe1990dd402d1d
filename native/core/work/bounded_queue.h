// BoundedQueue<T>: a FIFO with a fixed capacity and a stated overflow policy, plus the counters every queue
// of the project reports (queued, dropped, completed, depth, max depth, time in queue). Not synchronized:
// its owner (Lane, Mailbox) holds a mutex around every call. Pure C++17, no N-API.
//
// Policies (chosen per queue by its owner, see docs/native-workers.md for which queue uses which):
//  - kDropOldest: when full, the oldest waiting item is dropped to make room. For streams where every item
//    matters but a stalled consumer must not build unbounded latency (audio encode slots).
//  - kLatestWins: a push drops every item still waiting, so at most one waits. For "only the newest frame
//    is worth doing" (video frames to encode, decoded frames for a slow reader).
// Dropped items are handed back to the caller (never destroyed under the owner's lock, since an item's
// destructor may do real work).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

namespace sw {
namespace work {

enum class QueuePolicy { kDropOldest, kLatestWins };

/** Counters of one queue. All counts since creation; times in microseconds on the steady clock. */
struct QueueStats {
  uint64_t queued = 0;          // items accepted by push()
  uint64_t dropped = 0;         // items removed unprocessed by the overflow policy
  uint64_t cancelled = 0;       // items removed unprocessed by close/clear/shutdown
  uint64_t completed = 0;       // items taken by the consumer and finished (Lane: job ran; Mailbox: drained)
  uint64_t failed = 0;          // Lane only: jobs that threw (counted in completed too)
  size_t depth = 0;             // items waiting now
  size_t maxDepth = 0;          // largest depth seen
  double queueTimeTotalUs = 0;  // sum over taken items of (taken - pushed)
  double queueTimeMaxUs = 0;
  double queueTimeLastUs = 0;
};

struct QueueOptions {
  size_t capacity = 8;  // >= 1; kLatestWins behaves as capacity 1
  QueuePolicy policy = QueuePolicy::kDropOldest;
  // Used by WorkerPool lanes only: an urgent lane's jobs run before any job of a non-urgent lane (short,
  // deadline-bound jobs such as 20 ms of audio, which must not wait behind milliseconds-long video frames).
  bool urgent = false;
};

template <typename T>
class BoundedQueue {
 public:
  using Clock = std::chrono::steady_clock;

  explicit BoundedQueue(QueueOptions o) : o_(o) {
    if (o_.capacity == 0) o_.capacity = 1;
    if (o_.policy == QueuePolicy::kLatestWins) o_.capacity = 1;
  }

  const QueueOptions& options() const { return o_; }

  /** Appends `v`; items the policy drops to make room are moved into `dropped` (caller destroys them). */
  void push(T&& v, std::vector<T>* dropped) {
    while (items_.size() >= o_.capacity) {
      dropped->push_back(std::move(items_.front().value));
      items_.pop_front();
      stats_.dropped++;
    }
    items_.push_back(Entry{std::move(v), Clock::now()});
    stats_.queued++;
    stats_.maxDepth = std::max(stats_.maxDepth, items_.size());
  }

  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }

  /** Takes the oldest item (the queue must not be empty) and records its time in queue. */
  T pop() {
    Entry e = std::move(items_.front());
    items_.pop_front();
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - e.at).count();
    stats_.queueTimeTotalUs += us;
    stats_.queueTimeMaxUs = std::max(stats_.queueTimeMaxUs, us);
    stats_.queueTimeLastUs = us;
    return std::move(e.value);
  }

  /** Removes every waiting item into `out` (counted as cancelled). */
  void cancelAll(std::vector<T>* out) {
    for (auto& e : items_) out->push_back(std::move(e.value));
    stats_.cancelled += items_.size();
    items_.clear();
  }

  void markCompleted(bool failed = false) {
    stats_.completed++;
    if (failed) stats_.failed++;
  }

  QueueStats stats() const {
    QueueStats s = stats_;
    s.depth = items_.size();
    return s;
  }

 private:
  struct Entry {
    T value;
    Clock::time_point at;
  };
  QueueOptions o_;
  std::deque<Entry> items_;
  QueueStats stats_;
};

}  // namespace work
}  // namespace sw
