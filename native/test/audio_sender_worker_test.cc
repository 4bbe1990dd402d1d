// AudioSender in deferred mode on the worker facility (what the binding does in worker mode): the packets
// are byte-identical to inline mode, a batch lost before the encoder becomes a timestamp gap with a marker,
// and many senders encoding on a shared pool while being closed stay race-free (run under TSan too).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/audio/audio_sender.h"
#include "core/rtp/rtp_packet.h"
#include "core/work/mailbox.h"
#include "core/work/worker_pool.h"
#include "test/test.h"

using namespace sw;
using std::chrono::milliseconds;

namespace {

audio::AudioSenderOptions Options() {
  audio::AudioSenderOptions o;
  o.sampleRate = 24000;
  o.channels = 1;
  o.ssrc = 0x1234;
  o.payloadType = 111;
  o.initialSequence = 65530;  // wraps during the test
  o.initialTimestamp = 0xFFFFF000u;
  o.capacityMs = 2000;
  return o;
}

std::vector<int16_t> Tone(size_t samples, double hz, int rate, size_t phase) {
  std::vector<int16_t> v(samples);
  for (size_t i = 0; i < samples; ++i)
    v[i] = static_cast<int16_t>(8000 *
                                std::sin(2 * 3.141592653589793 * hz * static_cast<double>(i + phase) / rate));
  return v;
}

using Packets = std::vector<std::vector<uint8_t>>;

void Append(const audio::PacketBatch& b, Packets* out) {
  for (size_t i = 0; i < b.size(); ++i)
    out->emplace_back(b.bytes.begin() + b.offsets[i], b.bytes.begin() + b.offsets[i] + b.lens[i]);
}

// Speech, a pause, more speech in odd chunk sizes, a clear() mid-speech, a bitrate change and an SSRC
// change, a stall (skipped slots), pulled every 10 ms. `encodeBatch` handles what a pull produced.
template <typename Sink>
void Drive(audio::AudioSender* s, Sink&& sink) {
  size_t phase = 0;
  double t = 0;
  for (int tick = 0; tick < 300; ++tick, t += 10) {
    if (tick < 60 && tick % 2 == 0) {
      auto pcm = Tone(480, 440, 24000, phase);  // 20 ms per 20 ms
      phase += pcm.size();
      s->write(pcm.data(), pcm.size());
    }
    if (tick >= 100 && tick < 180 && tick % 3 == 0) {
      auto pcm = Tone(777, 300, 24000, phase);
      phase += pcm.size();
      s->write(pcm.data(), pcm.size());
    }
    if (tick == 150) s->clear();
    if (tick == 160) s->setBitrate(24000);
    if (tick == 200) s->setSsrc(0x5678);
    if (tick == 220) t += 200;  // a stall: slots skipped
    sink(s->pull(t));
  }
}

}  // namespace

TEST(AudioSenderDeferredMatchesInlineByteForByte) {
  Packets inlinePackets;
  {
    audio::AudioSender s(Options());
    Drive(&s, [&](size_t n) {
      for (size_t i = 0; i < n; ++i) inlinePackets.emplace_back(s.packet(i), s.packet(i) + s.packetLen(i));
    });
  }
  Packets workerPackets;
  uint64_t workerSent = 0;
  {
    work::WorkerPool pool(2);
    // Large enough that nothing is dropped: this loop submits far faster than real time.
    auto lane = pool.createLane(work::QueueOptions{1000, work::QueuePolicy::kDropOldest});
    std::mutex mu;
    audio::AudioSender s(Options());
    s.setDeferred(true);
    Drive(&s, [&](size_t n) {
      CHECK_EQ(n, 0u);  // deferred: nothing inline
      audio::EncodeBatch batch;
      if (s.takeBatch(&batch)) {
        lane->submit([stage = s.stage(), batch = std::move(batch), &mu, &workerPackets] {
          audio::PacketBatch out;
          stage->run(batch, &out);
          std::lock_guard<std::mutex> lock(mu);
          Append(out, &workerPackets);
        });
      }
    });
    CHECK(lane->waitIdle(milliseconds(10000)));
    CHECK_EQ(lane->stats().dropped, 0u);
    workerSent = s.stats().packetsSent;
  }
  CHECK(inlinePackets.size() > 100u);
  CHECK_EQ(workerPackets.size(), inlinePackets.size());
  CHECK_EQ(workerSent, static_cast<uint64_t>(inlinePackets.size()));
  CHECK(workerPackets == inlinePackets);
  for (size_t i = 0; i < std::min(workerPackets.size(), inlinePackets.size()); ++i) {
    if (workerPackets[i] != inlinePackets[i]) {
      std::fprintf(stderr, "first difference at packet %zu (sizes %zu vs %zu)\n", i, workerPackets[i].size(),
                   inlinePackets[i].size());
      break;
    }
  }
}

TEST(AudioSenderDroppedBatchIsATimestampGapWithMarker) {
  audio::AudioSender s(Options());
  s.setDeferred(true);
  std::vector<audio::EncodeBatch> batches;
  for (int tick = 0; tick < 10; ++tick) {
    s.pull(tick * 20.0);
    audio::EncodeBatch b;
    if (s.takeBatch(&b)) batches.push_back(std::move(b));
  }
  CHECK_EQ(batches.size(), 10u);
  // Batches 4 and 5 never reach the encoder (dropped by the lane's policy).
  audio::PacketBatch out;
  for (size_t i = 0; i < batches.size(); ++i) {
    if (i == 4 || i == 5) continue;
    s.stage()->run(batches[i], &out);
  }
  CHECK_EQ(out.size(), 8u);
  std::vector<rtp::RtpHeader> h(out.size());
  for (size_t i = 0; i < out.size(); ++i)
    CHECK(rtp::ParseRtp(out.bytes.data() + out.offsets[i], out.lens[i], &h[i]) == rtp::RtpStatus::kOk);
  // Consecutive sequence numbers (nothing was sent for the dropped slots), timestamps keep real time.
  CHECK_EQ(static_cast<uint16_t>(h[4].sequence_number - h[3].sequence_number), 1u);
  CHECK_EQ(h[4].timestamp - h[3].timestamp, 3u * 960u);
  CHECK(h[4].marker);
  CHECK(!h[3].marker);
  CHECK(!h[5].marker);
}

TEST(AudioSenderManyWorkerSendersClosedMidStream) {
  // 16 senders on a 2-thread pool, pulled from this thread while workers encode; results go through
  // mailboxes drained here; half the senders are destroyed mid-stream with batches queued and running.
  work::WorkerPool pool(2);
  struct Sender {
    std::unique_ptr<audio::AudioSender> tx;
    std::shared_ptr<work::Lane> lane;
    std::shared_ptr<work::Mailbox<audio::PacketBatch>> box;
    uint64_t received = 0;
  };
  std::vector<Sender> senders(16);
  for (size_t i = 0; i < senders.size(); ++i) {
    auto o = Options();
    o.ssrc = static_cast<uint32_t>(i + 1);
    senders[i].tx = std::make_unique<audio::AudioSender>(o);
    senders[i].tx->setDeferred(true);
    senders[i].lane = pool.createLane(work::QueueOptions{8, work::QueuePolicy::kDropOldest});
    senders[i].box = std::make_shared<work::Mailbox<audio::PacketBatch>>(
        work::QueueOptions{16, work::QueuePolicy::kDropOldest}, nullptr);
  }
  auto pcm = Tone(4800, 500, 24000, 0);
  for (int tick = 0; tick < 100; ++tick) {
    for (size_t i = 0; i < senders.size(); ++i) {
      Sender& sd = senders[i];
      if (!sd.tx) continue;
      if (tick % 10 == 0) sd.tx->write(pcm.data(), pcm.size());
      sd.tx->pull(tick * 20.0);
      audio::EncodeBatch b;
      if (sd.tx->takeBatch(&b)) {
        sd.lane->submit([stage = sd.tx->stage(), box = sd.box, b = std::move(b)] {
          audio::PacketBatch out;
          stage->run(b, &out);
          box->post(std::move(out));
        });
      }
      sd.tx->stats();  // counters read while a worker may run the stage
      for (auto& r : sd.box->drain()) sd.received += r.size();
      if (tick == 50 && i % 2 == 0) {
        sd.lane->close();
        sd.box->close();
        sd.tx.reset();  // the stage lives on in a running job, if any
      }
    }
  }
  for (auto& sd : senders) {
    CHECK(sd.lane->waitIdle(milliseconds(10000)));
    sd.lane->close();
    for (auto& r : sd.box->drain()) sd.received += r.size();
  }
  for (size_t i = 1; i < senders.size(); i += 2) {
    // One slot per pull, auto-silence on: every batch that ran made exactly one packet, and every batch
    // either ran or was dropped by the lane's policy.
    const work::QueueStats st = senders[i].lane->stats();
    CHECK_EQ(senders[i].received, st.completed);
    CHECK_EQ(st.completed + st.dropped, 100u);
  }
}
