// Unit and stress tests of native/core/work (BoundedQueue, Lane, WorkerPool, Mailbox): policies, strand
// order, many producers, close and shutdown with jobs queued and running, and that every job's resources are
// released on every path. Built three times by native/CMakeLists.txt: plain, ASan+UBSan and TSan; under TSan
// a data race anywhere in the facility fails the run. CHECK() is only called on the test's main thread (the
// runner's failure counter is not thread-safe); worker threads record into atomics or under a mutex.
#include "core/work/worker_pool.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "core/work/bounded_queue.h"
#include "core/work/mailbox.h"
#include "core/work/task.h"
#include "test/test.h"

using namespace sw::work;
using std::chrono::milliseconds;

namespace {

// A one-shot gate a job can block on until the test opens it.
class Gate {
 public:
  void open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Signals once a job has started (so the test knows the worker is inside it).
class Latch {
 public:
  void set() {
    std::lock_guard<std::mutex> lock(mu_);
    set_ = true;
    cv_.notify_all();
  }
  bool wait(milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return set_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

// Counts live instances: a job that owns one proves its resources were released (run or dropped).
struct Resource {
  explicit Resource(std::atomic<int>* live) : live_(live) { live_->fetch_add(1); }
  ~Resource() { live_->fetch_sub(1); }
  Resource(const Resource&) = delete;
  Resource& operator=(const Resource&) = delete;
  std::atomic<int>* live_;
};

// Records job ids in execution order (thread-safe).
class Order {
 public:
  void add(int v) {
    std::lock_guard<std::mutex> lock(mu_);
    v_.push_back(v);
  }
  std::vector<int> get() {
    std::lock_guard<std::mutex> lock(mu_);
    return v_;
  }

 private:
  std::mutex mu_;
  std::vector<int> v_;
};

// Blocks `lane`'s worker inside a job until `gate` opens; returns once the job is running.
void BlockLane(Lane& lane, Gate* gate) {
  auto started = std::make_shared<Latch>();
  lane.submit([gate, started] {
    started->set();
    gate->wait();
  });
  started->wait(milliseconds(5000));
}

}  // namespace

TEST(WorkQueueDropOldestKeepsNewestInOrder) {
  BoundedQueue<int> q(QueueOptions{3, QueuePolicy::kDropOldest});
  std::vector<int> dropped;
  for (int i = 1; i <= 5; ++i) q.push(int{i}, &dropped);
  CHECK_EQ(dropped.size(), 2u);
  CHECK_EQ(dropped[0], 1);
  CHECK_EQ(dropped[1], 2);
  CHECK_EQ(q.pop(), 3);
  CHECK_EQ(q.pop(), 4);
  CHECK_EQ(q.pop(), 5);
  const QueueStats s = q.stats();
  CHECK_EQ(s.queued, 5u);
  CHECK_EQ(s.dropped, 2u);
  CHECK_EQ(s.maxDepth, 3u);
  CHECK_EQ(s.depth, 0u);
}

TEST(WorkQueueLatestWinsKeepsOnlyTheNewest) {
  BoundedQueue<int> q(QueueOptions{8, QueuePolicy::kLatestWins});
  std::vector<int> dropped;
  for (int i = 1; i <= 4; ++i) q.push(int{i}, &dropped);
  CHECK_EQ(dropped.size(), 3u);
  CHECK_EQ(q.size(), 1u);
  CHECK_EQ(q.pop(), 4);
  CHECK_EQ(q.stats().maxDepth, 1u);
  // Capacity 0 is clamped to 1, not an always-full queue.
  BoundedQueue<int> z(QueueOptions{0, QueuePolicy::kDropOldest});
  z.push(7, &dropped);
  CHECK_EQ(z.size(), 1u);
}

TEST(WorkLaneRunsJobsInOrderOneAtATime) {
  WorkerPool pool(4);
  constexpr int kLanes = 6;
  constexpr int kJobs = 300;
  std::vector<std::shared_ptr<Lane>> lanes;
  std::vector<std::unique_ptr<Order>> orders;
  std::vector<std::unique_ptr<std::atomic<int>>> inside;
  std::atomic<int> overlaps{0};
  for (int l = 0; l < kLanes; ++l) {
    lanes.push_back(pool.createLane(QueueOptions{kJobs, QueuePolicy::kDropOldest}));
    orders.push_back(std::make_unique<Order>());
    inside.push_back(std::make_unique<std::atomic<int>>(0));
  }
  for (int j = 0; j < kJobs; ++j) {
    for (int l = 0; l < kLanes; ++l) {
      Order* order = orders[l].get();
      std::atomic<int>* in = inside[l].get();
      CHECK(lanes[l]
                ->submit([order, in, &overlaps, j] {
                  if (in->fetch_add(1) != 0) overlaps++;
                  order->add(j);
                  in->fetch_sub(1);
                })
                .accepted);
    }
  }
  for (auto& lane : lanes) CHECK(lane->waitIdle(milliseconds(20000)));
  CHECK_EQ(overlaps.load(), 0);
  for (int l = 0; l < kLanes; ++l) {
    const std::vector<int> got = orders[l]->get();
    CHECK_EQ(got.size(), static_cast<size_t>(kJobs));
    bool inOrder = true;
    for (size_t i = 0; i < got.size(); ++i) inOrder = inOrder && got[i] == static_cast<int>(i);
    CHECK(inOrder);
    const QueueStats s = lanes[l]->stats();
    CHECK_EQ(s.completed, static_cast<uint64_t>(kJobs));
    CHECK_EQ(s.dropped, 0u);
  }
}

TEST(WorkManyProducersManyLanes) {
  WorkerPool pool(3);
  constexpr int kProducers = 8;
  constexpr int kPerProducer = 2000;
  auto lane = pool.createLane(QueueOptions{kProducers * kPerProducer, QueuePolicy::kDropOldest});
  auto other = pool.createLane(QueueOptions{4, QueuePolicy::kDropOldest});
  std::atomic<long long> sum{0};
  std::atomic<int> live{0};
  std::atomic<uint64_t> otherAccepted{0};
  std::vector<std::thread> producers;
  // The JS thread reads counters while workers run: a monitor polling stats() concurrently.
  std::atomic<bool> producing{true};
  std::atomic<uint64_t> maxSeenDepth{0};
  std::thread monitor([&] {
    while (producing.load()) {
      const QueueStats s = lane->stats();
      if (s.depth > maxSeenDepth.load()) maxSeenDepth = s.depth;
      other->stats();
      std::this_thread::yield();
    }
  });
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) {
        auto res = std::make_shared<Resource>(&live);
        const long long v = static_cast<long long>(p) * kPerProducer + i;
        lane->submit([&sum, v, res] { sum += v; });
        // A small drop-oldest lane hammered by everyone at once: drops happen, counts must still add up.
        if (other->submit([res] {}).accepted) otherAccepted++;
      }
    });
  }
  for (auto& t : producers) t.join();
  CHECK(lane->waitIdle(milliseconds(30000)));
  CHECK(other->waitIdle(milliseconds(30000)));
  producing = false;
  monitor.join();
  CHECK(maxSeenDepth.load() <= lane->stats().maxDepth);
  const long long n = static_cast<long long>(kProducers) * kPerProducer;
  CHECK_EQ(sum.load(), n * (n - 1) / 2);
  CHECK_EQ(live.load(), 0);
  const QueueStats s = lane->stats();
  CHECK_EQ(s.queued, static_cast<uint64_t>(n));
  CHECK_EQ(s.completed, static_cast<uint64_t>(n));
  const QueueStats o = other->stats();
  CHECK_EQ(o.queued, otherAccepted.load());
  CHECK_EQ(o.completed + o.dropped, o.queued);
  CHECK(o.maxDepth <= 4u);
}

TEST(WorkDropOldestUnderAStalledWorker) {
  WorkerPool pool(1);
  auto lane = pool.createLane(QueueOptions{4, QueuePolicy::kDropOldest});
  Gate gate;
  BlockLane(*lane, &gate);
  Order order;
  size_t dropped = 0;
  for (int i = 1; i <= 10; ++i) dropped += lane->submit([&order, i] { order.add(i); }).dropped;
  CHECK_EQ(dropped, 6u);
  gate.open();
  CHECK(lane->waitIdle(milliseconds(5000)));
  const std::vector<int> got = order.get();
  CHECK_EQ(got.size(), 4u);
  if (got.size() == 4) {
    CHECK_EQ(got[0], 7);
    CHECK_EQ(got[3], 10);
  }
  const QueueStats s = lane->stats();
  CHECK_EQ(s.dropped, 6u);
  CHECK_EQ(s.completed, 5u);  // the blocking job + 4
  CHECK_EQ(s.maxDepth, 4u);
}

TEST(WorkLatestWinsRunsOnlyTheNewestAfterAStall) {
  WorkerPool pool(2);
  auto lane = pool.createLane(QueueOptions{1, QueuePolicy::kLatestWins});
  Gate gate;
  BlockLane(*lane, &gate);
  Order order;
  for (int i = 1; i <= 10; ++i) lane->submit([&order, i] { order.add(i); });
  gate.open();
  CHECK(lane->waitIdle(milliseconds(5000)));
  const std::vector<int> got = order.get();
  CHECK_EQ(got.size(), 1u);
  if (!got.empty()) CHECK_EQ(got[0], 10);
  CHECK_EQ(lane->stats().dropped, 9u);
}

TEST(WorkTimeInQueueIsMeasured) {
  WorkerPool pool(1);
  auto lane = pool.createLane(QueueOptions{4, QueuePolicy::kDropOldest});
  Gate gate;
  BlockLane(*lane, &gate);
  lane->submit([] {});
  std::this_thread::sleep_for(milliseconds(30));
  gate.open();
  CHECK(lane->waitIdle(milliseconds(5000)));
  const QueueStats s = lane->stats();
  CHECK(s.queueTimeMaxUs >= 25000);
  CHECK(s.queueTimeTotalUs >= s.queueTimeMaxUs);
}

TEST(WorkCloseWithJobsQueuedAndRunning) {
  std::atomic<int> live{0};
  std::atomic<int> ran{0};
  WorkerPool pool(2);
  auto lane = pool.createLane(QueueOptions{64, QueuePolicy::kDropOldest});
  Gate gate;
  auto started = std::make_shared<Latch>();
  {
    auto res = std::make_shared<Resource>(&live);
    lane->submit([&gate, started, res, &ran] {
      started->set();
      gate.wait();
      ran++;
    });
  }
  CHECK(started->wait(milliseconds(5000)));
  for (int i = 0; i < 20; ++i) {
    auto res = std::make_shared<Resource>(&live);
    lane->submit([res, &ran] { ran++; });
  }
  CHECK_EQ(live.load(), 21);
  lane->close();             // must not wait for the running job
  CHECK_EQ(live.load(), 1);  // the 20 queued jobs (and what they own) are gone already
  CHECK(!lane->submit([&ran] { ran++; }).accepted);
  CHECK(lane->closed());
  gate.open();
  CHECK(lane->waitIdle(milliseconds(5000)));
  CHECK_EQ(live.load(), 0);
  CHECK_EQ(ran.load(), 1);
  const QueueStats s = lane->stats();
  CHECK_EQ(s.cancelled, 20u);
  CHECK_EQ(s.completed, 1u);
}

TEST(WorkCloseRacesWithProducersAndWorkers) {
  // Owners closed from another thread while producers submit and workers run: no job runs twice, every
  // resource is released, no crash. Repeated to give the interleavings a chance (TSan watches the locks).
  std::atomic<int> live{0};
  for (int round = 0; round < 20; ++round) {
    WorkerPool pool(3);
    std::vector<std::shared_ptr<Lane>> lanes;
    for (int l = 0; l < 4; ++l) lanes.push_back(pool.createLane(QueueOptions{16, QueuePolicy::kDropOldest}));
    std::atomic<bool> stop{false};
    std::vector<std::thread> producers;
    for (int p = 0; p < 3; ++p) {
      producers.emplace_back([&, p] {
        int i = 0;
        while (!stop.load()) {
          auto res = std::make_shared<Resource>(&live);
          lanes[(p + i++) % lanes.size()]->submit([res] { std::this_thread::yield(); });
        }
      });
    }
    std::this_thread::sleep_for(milliseconds(2));
    for (auto& lane : lanes) lane->close();
    stop = true;
    for (auto& t : producers) t.join();
    for (auto& lane : lanes) CHECK(lane->waitIdle(milliseconds(5000)));
  }
  CHECK_EQ(live.load(), 0);
}

TEST(WorkShutdownWithWorkPendingReleasesEverything) {
  std::atomic<int> live{0};
  std::atomic<int> ran{0};
  std::shared_ptr<Lane> survivor;
  {
    WorkerPool pool(2);
    std::vector<std::shared_ptr<Lane>> lanes;
    for (int l = 0; l < 5; ++l) {
      lanes.push_back(pool.createLane(QueueOptions{100, QueuePolicy::kDropOldest}));
      for (int j = 0; j < 100; ++j) {
        auto res = std::make_shared<Resource>(&live);
        lanes.back()->submit([res, &ran] {
          ran++;
          std::this_thread::sleep_for(std::chrono::microseconds(200));
        });
      }
    }
    survivor = lanes[0];
    pool.shutdown();  // joins once the running jobs return; the rest are cancelled
    CHECK_EQ(live.load(), 0);
    CHECK(ran.load() < 500);
    // After shutdown a lane refuses work (the job is destroyed, not leaked).
    auto res = std::make_shared<Resource>(&live);
    CHECK(!lanes[1]->submit([res] {}).accepted);
  }
  // The lane outlives its pool: still safe to use (refuses), to close and to destroy.
  auto res = std::make_shared<Resource>(&live);
  CHECK(!survivor->submit([res] {}).accepted);
  res.reset();
  survivor->close();
  survivor.reset();
  CHECK_EQ(live.load(), 0);
}

TEST(WorkThrowingJobDoesNotKillTheWorker) {
  WorkerPool pool(1);
  auto lane = pool.createLane(QueueOptions{8, QueuePolicy::kDropOldest});
  std::atomic<int> ran{0};
  lane->submit([] { throw std::runtime_error("boom"); });
  lane->submit([&ran] { ran++; });
  CHECK(lane->waitIdle(milliseconds(5000)));
  CHECK_EQ(ran.load(), 1);
  CHECK_EQ(lane->stats().failed, 1u);
  CHECK_EQ(lane->stats().completed, 2u);
}

TEST(WorkLanesAreServedRoundRobin) {
  // One thread, a busy lane A and a lane B with one job: B must not wait for all of A's backlog.
  WorkerPool pool(1);
  auto a = pool.createLane(QueueOptions{100, QueuePolicy::kDropOldest});
  auto b = pool.createLane(QueueOptions{100, QueuePolicy::kDropOldest});
  Gate gate;
  BlockLane(*a, &gate);
  Order order;
  for (int i = 0; i < 50; ++i) a->submit([&order, i] { order.add(i); });
  b->submit([&order] { order.add(1000); });
  gate.open();
  CHECK(a->waitIdle(milliseconds(5000)));
  CHECK(b->waitIdle(milliseconds(5000)));
  const std::vector<int> got = order.get();
  size_t pos = got.size();
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] == 1000) pos = i;
  }
  CHECK(pos <= 2u);
}

TEST(WorkUrgentLanesRunBeforeOtherLanes) {
  // One thread busy with lane A; lanes B and C (normal) and U (urgent) each queue jobs meanwhile: once the
  // thread is free, every job of U runs before any waiting job of A, B or C (audio before video frames).
  WorkerPool pool(1);
  auto a = pool.createLane(QueueOptions{100, QueuePolicy::kDropOldest});
  auto b = pool.createLane(QueueOptions{100, QueuePolicy::kDropOldest});
  auto c = pool.createLane(QueueOptions{100, QueuePolicy::kDropOldest});
  auto u = pool.createLane(QueueOptions{100, QueuePolicy::kDropOldest, true});
  Gate gate;
  BlockLane(*a, &gate);
  Order order;
  for (int i = 0; i < 5; ++i) {
    a->submit([&order, i] { order.add(i); });
    b->submit([&order, i] { order.add(100 + i); });
    c->submit([&order, i] { order.add(200 + i); });
  }
  for (int i = 0; i < 3; ++i) u->submit([&order, i] { order.add(1000 + i); });
  gate.open();
  for (auto* l : {&a, &b, &c, &u}) CHECK((*l)->waitIdle(milliseconds(5000)));
  const std::vector<int> got = order.get();
  CHECK_EQ(got.size(), 18u);
  // The first three jobs after the blocking one are U's, in order; the normal lanes stay round-robin.
  CHECK_EQ(got[0], 1000);
  CHECK_EQ(got[1], 1001);
  CHECK_EQ(got[2], 1002);
  CHECK(got[3] < 1000);
}

TEST(WorkPoolThreadsTakeTheirNameAndNiceIncrement) {
#if defined(__linux__)
  // A background pool's threads run at the process's nice value + niceIncrement (capped at 19) under their
  // own name; a default pool's threads keep the process's priority.
  errno = 0;
  const int base = getpriority(PRIO_PROCESS, 0);
  CHECK_EQ(errno, 0);
  struct Seen {
    int nice = 1000;
    std::string name;
  };
  auto probe = [](WorkerPool& pool) {
    auto lane = pool.createLane(QueueOptions{4, QueuePolicy::kDropOldest});
    auto seen = std::make_shared<Seen>();
    lane->submit([seen] {
      seen->nice = getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
      char name[16] = {};
      pthread_getname_np(pthread_self(), name, sizeof(name));
      seen->name = name;
    });
    CHECK(lane->waitIdle(milliseconds(5000)));
    return *seen;
  };
  PoolOptions o;
  o.namePrefix = "sw-test-";
  o.niceIncrement = 5;
  WorkerPool background(1, o);
  const Seen bg = probe(background);
  CHECK_EQ(bg.nice, std::min(base + 5, 19));
  CHECK(bg.name == "sw-test-0");
  WorkerPool normal(1);
  const Seen n = probe(normal);
  CHECK_EQ(n.nice, base);
  CHECK(n.name == "sw-worker-0");
#endif
}

TEST(WorkMailboxWakesOncePerBatchAndNeverAfterClose) {
  std::atomic<int> wakes{0};
  Mailbox<std::unique_ptr<int>> box(QueueOptions{100000, QueuePolicy::kDropOldest}, [&wakes] { wakes++; });
  constexpr int kProducers = 4;
  constexpr int kEach = 5000;
  std::atomic<bool> done{false};
  long long sum = 0;
  size_t got = 0;
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&box, p] {
      for (int i = 0; i < kEach; ++i) box.post(std::make_unique<int>(p * kEach + i));
    });
  }
  std::thread consumer([&] {
    while (!done.load() || got < static_cast<size_t>(kProducers * kEach)) {
      for (auto& v : box.drain()) {
        sum += *v;
        got++;
      }
      if (got >= static_cast<size_t>(kProducers * kEach)) break;
      std::this_thread::yield();
    }
  });
  for (auto& t : producers) t.join();
  done = true;
  consumer.join();
  const long long n = static_cast<long long>(kProducers) * kEach;
  CHECK_EQ(got, static_cast<size_t>(n));
  CHECK_EQ(sum, n * (n - 1) / 2);
  CHECK(wakes.load() >= 1);
  CHECK(wakes.load() <= static_cast<int>(n));
  box.close();
  const int before = wakes.load();
  box.drain();
  CHECK(!box.post(std::make_unique<int>(1)));
  CHECK_EQ(wakes.load(), before);
  CHECK(box.closed());
}

TEST(WorkMailboxLatestWinsAndCoalescedWake) {
  int wakes = 0;
  Mailbox<int> box(QueueOptions{1, QueuePolicy::kLatestWins}, [&wakes] { wakes++; });
  for (int i = 1; i <= 5; ++i) box.post(int{i});
  CHECK_EQ(wakes, 1);  // one wake for the whole batch
  std::vector<int> got = box.drain();
  CHECK_EQ(got.size(), 1u);
  if (!got.empty()) CHECK_EQ(got[0], 5);
  CHECK_EQ(box.stats().dropped, 4u);
  box.post(6);
  CHECK_EQ(wakes, 2);  // re-armed by drain()
}

TEST(WorkPoolFeedsMailboxEndToEnd) {
  // The shape the addon uses: jobs on lanes post results to their owner's mailbox, the consumer drains
  // them; closing owner by owner while work is in flight.
  WorkerPool pool(2);
  std::atomic<int> live{0};
  struct Owner {
    std::shared_ptr<Lane> lane;
    std::shared_ptr<Mailbox<std::unique_ptr<Resource>>> box;
  };
  std::vector<Owner> owners;
  for (int i = 0; i < 8; ++i) {
    owners.push_back(Owner{pool.createLane(QueueOptions{8, QueuePolicy::kDropOldest}),
                           std::make_shared<Mailbox<std::unique_ptr<Resource>>>(
                               QueueOptions{4, QueuePolicy::kLatestWins}, nullptr)});
  }
  for (int round = 0; round < 200; ++round) {
    for (auto& o : owners) {
      std::weak_ptr<Mailbox<std::unique_ptr<Resource>>> weak = o.box;
      o.lane->submit([weak, &live] {
        if (auto box = weak.lock()) box->post(std::make_unique<Resource>(&live));
      });
    }
    if (round % 3 == 0) {
      for (auto& o : owners) o.box->drain();
    }
    if (round == 100) {
      for (size_t i = 0; i < owners.size(); i += 2) {
        owners[i].lane->close();
        owners[i].box->close();
      }
    }
  }
  for (auto& o : owners) {
    o.lane->close();
    CHECK(o.lane->waitIdle(milliseconds(5000)));
    o.box->close();
  }
  CHECK_EQ(live.load(), 0);
}
