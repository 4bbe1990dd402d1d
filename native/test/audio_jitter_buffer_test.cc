// Unit tests of the napi-free audio core: jitter buffer release policy, codec round trip, resampler framing,
// sender pacing/timestamps and receiver framing.
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/audio/audio_receiver.h"
#include "core/audio/audio_sender.h"
#include "core/audio/jitter_buffer.h"
#include "core/audio/opus_codec.h"
#include "core/audio/resampler.h"
#include "core/rtp/rtp_packet.h"
#include "test/test.h"

using sw::audio::JitterBuffer;
using sw::audio::JitterEvent;
using sw::audio::JitterSink;

namespace {

struct Recorder : JitterSink {
  std::vector<JitterEvent> events;
  void onJitterEvent(const JitterEvent& e) override { events.push_back(e); }
  uint64_t samples(JitterEvent::Kind k) const {
    uint64_t n = 0;
    for (const auto& e : events) n += e.kind == k ? e.samples : 0;
    return n;
  }
  uint64_t total() const {
    uint64_t n = 0;
    for (const auto& e : events) n += e.samples;
    return n;
  }
};

// 20 ms Opus packets of a 440 Hz tone, encoded with FEC on (loss hint 20 %) so LBRR is present.
std::vector<std::vector<uint8_t>> EncodeTone(int count, int frameMs = 20, bool fec = true) {
  sw::audio::OpusEncoderOptions o;
  o.sampleRate = 48000;
  o.frameMs = frameMs;
  o.fec = fec;
  o.packetLossPercent = fec ? 20 : 0;
  o.bitrate = 24000;
  sw::audio::OpusEncoder enc(o);
  std::vector<std::vector<uint8_t>> out;
  std::vector<int16_t> pcm(static_cast<size_t>(enc.frameSamples()));
  uint64_t t = 0;
  for (int i = 0; i < count; ++i) {
    for (auto& s : pcm)
      s = static_cast<int16_t>(8000 * std::sin(2 * M_PI * 440 * static_cast<double>(t++) / 48000));
    std::vector<uint8_t> buf(1275);
    int n = enc.encode(pcm.data(), buf.data(), static_cast<int>(buf.size()));
    buf.resize(static_cast<size_t>(n > 0 ? n : 0));
    out.push_back(buf);
  }
  return out;
}

}  // namespace

TEST(JitterInOrderReleasesImmediately) {
  auto pk = EncodeTone(50);
  JitterBuffer jb;
  Recorder r;
  for (int i = 0; i < 50; ++i) {
    jb.push(pk[i].data(), pk[i].size(), 1, static_cast<uint16_t>(65530 + i), 4294967000u + 960u * i, 20.0 * i,
            r);
    CHECK_EQ(jb.stats().lastReleaseDelayMs, 0.0);
  }
  CHECK_EQ(r.samples(JitterEvent::Kind::kPacket), 50u * 960u);
  CHECK_EQ(r.events.size(), 50u);
  CHECK_EQ(jb.stats().lost, 0u);
}

TEST(JitterSingleLossUsesFecAndReturnsToZeroDelay) {
  auto pk = EncodeTone(30);
  JitterBuffer jb;
  Recorder r;
  for (int i = 0; i < 30; ++i) {
    if (i == 10) continue;
    jb.push(pk[i].data(), pk[i].size(), 7, static_cast<uint16_t>(i), 960u * i, 20.0 * i, r);
    jb.poll(20.0 * i + 10, r);
  }
  CHECK(sw::audio::OpusPacketHasFec(pk[11].data(), pk[11].size()));
  CHECK_EQ(jb.stats().lost, 1u);
  CHECK_EQ(jb.stats().fecRecovered, 1u);
  CHECK_EQ(r.total(), 30u * 960u);
  CHECK_EQ(jb.stats().lastReleaseDelayMs, 0.0);
}

TEST(JitterDtxGapIsSilenceNotLoss) {
  auto pk = EncodeTone(20);
  JitterBuffer jb;
  Recorder r;
  for (int i = 0; i < 10; ++i)
    jb.push(pk[i].data(), pk[i].size(), 7, static_cast<uint16_t>(i), 960u * i, 20.0 * i, r);
  // seq 10 follows seq 9 but its timestamp is 400 ms later; poll in between keeps the output running.
  for (int t = 200; t < 600; t += 10) jb.poll(t, r);
  jb.push(pk[10].data(), pk[10].size(), 7, 10, 960u * 30, 600, r);
  CHECK_EQ(jb.stats().lost, 0u);
  CHECK(jb.stats().silenceMs >= 380);
  CHECK_EQ(jb.stats().concealedMs, 0.0);
  CHECK_EQ(r.total(), 31u * 960u);
}

TEST(ResamplerExactFrames) {
  sw::audio::Resampler rs(44100, 16000, 2, 1);
  std::vector<int16_t> in(441 * 2 * 3);
  size_t frames = 0;
  for (int k = 0; k < 100; ++k) {
    rs.write(in.data(), 441 * 3);
    std::vector<int16_t> out(320);
    while (rs.fifo().frames() >= 320) {
      CHECK_EQ(rs.fifo().read(out.data(), 320), 320u);
      frames++;
    }
  }
  // 100 * 30 ms = 3 s of input -> 150 frames of 20 ms, minus at most one for the filter latency.
  CHECK(frames >= 149 && frames <= 150);
}

TEST(SenderPacesAndStampsFromSampleCounts) {
  sw::audio::AudioSenderOptions o;
  o.sampleRate = 16000;
  o.ssrc = 1234;
  o.initialSequence = 65534;
  o.initialTimestamp = 4294967000u;
  sw::audio::AudioSender s(o);
  std::vector<int16_t> pcm(16000, 1000);
  CHECK_EQ(s.write(pcm.data(), pcm.size()), pcm.size());
  uint32_t lastTs = 0;
  uint16_t lastSeq = 0;
  int n = 0;
  for (int t = 0; t < 200; t += 20) {
    CHECK_EQ(s.pull(t + 0.5), 1u);
    sw::rtp::RtpHeader h;
    CHECK(sw::rtp::ParseRtp(s.packet(0), s.packetLen(0), &h) == sw::rtp::RtpStatus::kOk);
    if (n > 0) {
      CHECK_EQ(static_cast<uint32_t>(h.timestamp - lastTs), 960u);
      CHECK_EQ(static_cast<uint16_t>(h.sequence_number - lastSeq), 1u);
    }
    CHECK_EQ(h.marker, n == 0);
    lastTs = h.timestamp;
    lastSeq = h.sequence_number;
    n++;
  }
  // A 200 ms stall: 11 slots are due; 3 go out now, the rest in the next pulls, with consecutive timestamps
  // and sequence numbers (caught up, not skipped).
  CHECK_EQ(s.pull(400.5), 3u);
  sw::rtp::RtpHeader h;
  CHECK(sw::rtp::ParseRtp(s.packet(0), s.packetLen(0), &h) == sw::rtp::RtpStatus::kOk);
  CHECK_EQ(static_cast<uint32_t>(h.timestamp - lastTs), 960u);
  CHECK_EQ(static_cast<uint16_t>(h.sequence_number - lastSeq), 1u);
  CHECK_EQ(s.pull(401), 3u);
  CHECK_EQ(s.pull(402), 3u);
  CHECK_EQ(s.pull(403), 2u);
  CHECK_EQ(s.pull(404), 0u);
  CHECK_EQ(s.stats().skippedSlots, 0u);
  CHECK_EQ(s.stats().lateSlots, 8u + 5u + 2u);
}

TEST(ReceiverDecodesSenderOutputIntoExactFrames) {
  sw::audio::AudioSenderOptions so;
  so.sampleRate = 48000;
  so.ssrc = 99;
  sw::audio::AudioSender s(so);
  sw::audio::AudioReceiverOptions ro;
  ro.sampleRate = 44100;
  ro.channels = 2;
  ro.frameMs = 10;
  sw::audio::AudioReceiver rx(ro);
  std::vector<int16_t> pcm(48000);
  for (size_t i = 0; i < pcm.size(); ++i)
    pcm[i] = static_cast<int16_t>(8000 * std::sin(2 * M_PI * 1000 * i / 48000.0));
  s.write(pcm.data(), pcm.size());
  size_t frames = 0;
  for (int t = 0; t < 1000; t += 20) {
    s.pull(t);
    for (size_t i = 0; i < s.packetCount(); ++i) {
      CHECK(rx.push(s.packet(i), s.packetLen(i), t + 1));
      frames += rx.frameCount();
    }
  }
  CHECK(frames >= 98 && frames <= 100);
  CHECK_EQ(rx.frameSamples(), 441u);
  CHECK_EQ(rx.stats().jitter.lost, 0u);
}

TEST(ReceiverSurvivesRandomInput) {
  // Valid RTP headers with random Opus-looking payloads, random sequence numbers, timestamps and arrival
  // times (including backwards): no crash (run under ASan/UBSan), and every frame has the exact size.
  auto pk = EncodeTone(20);
  uint32_t x = 12345;
  auto rnd = [&x]() {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
  };
  for (int cfg = 0; cfg < 4; ++cfg) {
    sw::audio::AudioReceiverOptions o;
    o.sampleRate = cfg % 2 ? 44100 : 16000;
    o.channels = 1 + cfg / 2;
    sw::audio::AudioReceiver rx(o);
    double t = 0;
    for (int i = 0; i < 5000; ++i) {
      std::vector<uint8_t> payload;
      if (rnd() % 3 == 0) {
        payload = pk[rnd() % pk.size()];
      } else {
        payload.resize(rnd() % 300);
        for (auto& b : payload) b = static_cast<uint8_t>(rnd());
      }
      sw::rtp::RtpBuildParams p;
      p.payload_type = 111;
      p.sequence_number = static_cast<uint16_t>(rnd() % 4 == 0 ? rnd() : i);
      p.timestamp = rnd() % 4 == 0 ? rnd() : 960u * static_cast<uint32_t>(i);
      p.ssrc = rnd() % 100 == 0 ? rnd() : 7;
      std::vector<uint8_t> buf(payload.size() + 64);
      size_t w = 0;
      if (sw::rtp::BuildRtp(p, payload.data(), payload.size(), buf.data(), buf.size(), &w) !=
          sw::rtp::RtpStatus::kOk) {
        continue;
      }
      if (rnd() % 10 == 0) w = rnd() % (w + 1);  // truncated
      t += static_cast<double>(rnd() % 60) - 10;
      rx.push(buf.data(), w, t);
      for (size_t f = 0; f < rx.frameCount(); ++f) CHECK(rx.frameData(f) != nullptr);
      rx.poll(t + 5);
    }
    CHECK_EQ(rx.frameLen(), rx.frameSamples() * static_cast<size_t>(o.channels));
  }
}

namespace {

// Raw libopus packets of `frameSamples48k` samples each (2.5 ms needs CELT: restricted low delay).
std::vector<std::vector<uint8_t>> EncodeRaw(int frameSamples48k, int count, int application) {
  int err = 0;
  ::OpusEncoder* enc = opus_encoder_create(48000, 1, application, &err);
  std::vector<std::vector<uint8_t>> out;
  std::vector<int16_t> pcm(static_cast<size_t>(frameSamples48k));
  uint64_t t = 0;
  for (int i = 0; i < count; ++i) {
    for (auto& s : pcm)
      s = static_cast<int16_t>(8000 * std::sin(2 * M_PI * 440 * static_cast<double>(t++) / 48000));
    std::vector<uint8_t> buf(1500);
    const int n = opus_encode(enc, pcm.data(), frameSamples48k, buf.data(), static_cast<int>(buf.size()));
    buf.resize(static_cast<size_t>(n > 0 ? n : 0));
    out.push_back(buf);
  }
  opus_encoder_destroy(enc);
  return out;
}

// Merges groups of `per` packets into one (opus_repacketizer), e.g. 6 x 20 ms -> 120 ms.
std::vector<std::vector<uint8_t>> Merge(const std::vector<std::vector<uint8_t>>& in, int per) {
  std::vector<std::vector<uint8_t>> out;
  OpusRepacketizer* rp = opus_repacketizer_create();
  for (size_t i = 0; i + static_cast<size_t>(per) <= in.size(); i += static_cast<size_t>(per)) {
    opus_repacketizer_init(rp);
    for (int k = 0; k < per; ++k) {
      opus_repacketizer_cat(rp, in[i + static_cast<size_t>(k)].data(),
                            static_cast<opus_int32>(in[i + static_cast<size_t>(k)].size()));
    }
    std::vector<uint8_t> buf(7000);
    const int n = opus_repacketizer_out(rp, buf.data(), static_cast<opus_int32>(buf.size()));
    buf.resize(static_cast<size_t>(n > 0 ? n : 0));
    out.push_back(buf);
  }
  opus_repacketizer_destroy(rp);
  return out;
}

// Feeds packets of `samples` each through an AudioReceiver (16 kHz, 20 ms frames), skipping index `lose`.
void CheckDuration(const std::vector<std::vector<uint8_t>>& pk, uint32_t samples, size_t lose) {
  sw::audio::AudioReceiverOptions o;
  sw::audio::AudioReceiver rx(o);
  size_t frames = 0;
  for (size_t i = 0; i < pk.size(); ++i) {
    if (i == lose) continue;
    sw::rtp::RtpBuildParams p;
    p.payload_type = 111;
    p.sequence_number = static_cast<uint16_t>(i);
    p.timestamp = static_cast<uint32_t>(i) * samples;
    p.ssrc = 5;
    std::vector<uint8_t> buf(pk[i].size() + 32);
    size_t w = 0;
    CHECK(sw::rtp::BuildRtp(p, pk[i].data(), pk[i].size(), buf.data(), buf.size(), &w) ==
          sw::rtp::RtpStatus::kOk);
    CHECK(rx.push(buf.data(), w, static_cast<double>(i) * samples / 48.0));
    frames += rx.frameCount();
  }
  const uint64_t total = static_cast<uint64_t>(pk.size()) * samples;
  CHECK_EQ(frames, static_cast<size_t>(total / 960));
  CHECK_EQ(rx.stats().jitter.lost, 1u);
  CHECK_EQ(rx.stats().jitter.concealedMs, samples / 48.0);
  CHECK_EQ(rx.stats().decodeErrors, 0u);
}

}  // namespace

TEST(ReceiverHandles2p5And120MsPackets) {
  auto tiny = EncodeRaw(120, 800, OPUS_APPLICATION_RESTRICTED_LOWDELAY);  // 2.5 ms each, 2 s
  CHECK_EQ(sw::audio::OpusPacketSamples(tiny[0].data(), tiny[0].size(), 48000), 120);
  CheckDuration(tiny, 120, 400);
  auto big = Merge(EncodeRaw(960, 120, OPUS_APPLICATION_VOIP), 6);  // 120 ms each, 2.4 s
  CHECK_EQ(big.size(), 20u);
  CHECK_EQ(sw::audio::OpusPacketSamples(big[0].data(), big[0].size(), 48000), 5760);
  CheckDuration(big, 5760, 10);
}
