// The "core" column of bench/micro: our C++ AudioReceiver / AudioSender (native/core/audio) driven directly
// from C++, with no N-API in between. Comparing it with the floor (floor.cc) shows what the core's own work
// costs (RTP parse, jitter buffer, framing, ring); comparing it with the N-API path shows what the binding
// costs (the call, the Int16Array and frame objects). Built by bench/micro/run.ts at bench time against the
// core sources listed by scripts/native-sources.mjs --core. Same arguments and output as floor.cc.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

#include "core/audio/audio_receiver.h"
#include "core/audio/audio_sender.h"
#include "core/rtp/rtp_packet.h"

namespace {

std::vector<uint8_t> ReadFile(const char* path) {
  std::vector<uint8_t> data;
  FILE* f = std::fopen(path, "rb");
  if (f == nullptr) {
    std::perror(path);
    std::exit(2);
  }
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.insert(data.end(), buf, buf + n);
  std::fclose(f);
  return data;
}

double NowUs() {  // process CPU time, as in floor.cc
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

volatile int64_t g_sink = 0;

double Decode(const std::vector<std::vector<uint8_t>>& rtp, bool direct, int quality, bool timed) {
  sw::audio::AudioReceiverOptions o;
  o.sampleRate = 16000;
  o.channels = 1;
  o.payloadType = 111;
  o.resampleQuality = quality;
  o.decodeAtTargetRate = direct;
  sw::audio::AudioReceiver rx(o);
  double t0 = NowUs();
  for (size_t i = 0; i < rtp.size(); ++i) {
    rx.push(rtp[i].data(), rtp[i].size(), static_cast<double>(i) * 20.0);
    if (rx.frameCount() > 0) g_sink += rx.frameData(0)[0];
  }
  double t1 = NowUs();
  return timed ? (t1 - t0) / rtp.size() : 0;
}

double Encode(const int16_t* pcm, size_t chunks, int rate, int bitrate, int complexity, int fec, int loss,
              int quality, bool timed) {
  sw::audio::AudioSenderOptions o;
  o.sampleRate = rate;
  o.channels = 1;
  o.ssrc = 0x42424242;
  o.payloadType = 111;
  o.bitrate = bitrate;
  o.complexity = complexity;
  o.fec = fec != 0;
  o.packetLossPercent = loss;
  o.resampleQuality = quality;
  sw::audio::AudioSender tx(o);
  const size_t chunk = static_cast<size_t>(rate / 50);
  double t0 = NowUs();
  for (size_t i = 0; i < chunks; ++i) {
    tx.write(pcm + i * chunk, chunk);
    g_sink += static_cast<int64_t>(tx.pull(static_cast<double>(i) * 20.0));
  }
  double t1 = NowUs();
  return timed ? (t1 - t0) / chunks : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 9) {
    std::fprintf(stderr, "usage: %s packets pcm48 pcm24 bitrate complexity fec loss quality\n", argv[0]);
    return 2;
  }
  const std::vector<uint8_t> raw = ReadFile(argv[1]);
  // Wrap each payload in RTP exactly as the N-API path receives it (PT 111, consecutive seq/ts).
  std::vector<std::vector<uint8_t>> rtp;
  for (size_t pos = 0, i = 0; pos + 2 <= raw.size(); ++i) {
    const size_t len = static_cast<size_t>((raw[pos] << 8) | raw[pos + 1]);
    pos += 2;
    if (pos + len > raw.size()) break;
    sw::rtp::RtpBuildParams p;
    p.payload_type = 111;
    p.sequence_number = static_cast<uint16_t>(1000 + i);
    p.timestamp = static_cast<uint32_t>(960 * i);
    p.ssrc = 0x1234abcd;
    std::vector<uint8_t> pkt(sw::rtp::RtpPacketSize(p, len));
    size_t written = 0;
    sw::rtp::BuildRtp(p, raw.data() + pos, len, pkt.data(), pkt.size(), &written);
    rtp.push_back(std::move(pkt));
    pos += len;
  }
  const std::vector<uint8_t> pcm48 = ReadFile(argv[2]);
  const std::vector<uint8_t> pcm24 = ReadFile(argv[3]);
  const int bitrate = std::atoi(argv[4]), complexity = std::atoi(argv[5]), fec = std::atoi(argv[6]);
  const int loss = std::atoi(argv[7]), quality = std::atoi(argv[8]);
  const auto* s48 = reinterpret_cast<const int16_t*>(pcm48.data());
  const auto* s24 = reinterpret_cast<const int16_t*>(pcm24.data());
  const size_t chunks48 = pcm48.size() / 2 / 960;
  const size_t chunks24 = pcm24.size() / 2 / 480;

  Decode(rtp, false, quality, false);
  const double dr = Decode(rtp, false, quality, true);
  Decode(rtp, true, quality, false);
  const double dd = Decode(rtp, true, quality, true);
  Encode(s48, chunks48, 48000, bitrate, complexity, fec, loss, quality, false);
  const double e48 = Encode(s48, chunks48, 48000, bitrate, complexity, fec, loss, quality, true);
  Encode(s24, chunks24, 24000, bitrate, complexity, fec, loss, quality, false);
  const double e24 = Encode(s24, chunks24, 24000, bitrate, complexity, fec, loss, quality, true);
  std::printf(
      "{\"decodeResampled\":%.3f,\"decodeDirect\":%.3f,\"encode48\":%.3f,\"encode24\":%.3f,\"packets\":%zu}"
      "\n",
      dr, dd, e48, e24, rtp.size());
  return g_sink == 42 ? 1 : 0;
}
