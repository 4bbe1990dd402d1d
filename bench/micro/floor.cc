// The C floor of bench/micro: the least work a native implementation can do per 20 ms chunk, calling
// libopus and speexdsp directly with no framework around them. Built by bench/micro/run.ts at bench time
// (g++ -O2, linked against the system's -lopus -lspeexdsp) and run once per repetition; it prints one JSON
// line of microseconds per chunk (median is taken by the harness across repetitions).
//
// usage: floor <packets-file> <pcm48-file> <pcm24-file> <bitrate> <complexity> <fec> <loss%> <quality>
//   packets-file: [u16 big-endian length][Opus payload] records (what the receive paths decode)
//   pcm48-file / pcm24-file: raw s16le mono PCM at 48 / 24 kHz (what the send paths encode)
// Every variant runs one untimed warm-up pass over the input, then one timed pass (process CPU time,
// CLOCK_PROCESS_CPUTIME_ID).
#include <opus.h>
#include <speex/speex_resampler.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

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

struct Packet {
  const uint8_t* data;
  int size;
};

// CPU time of this process, us: the primary metric, robust to other processes competing for the cores
// (the harness measures the N-API and JS paths the same way, with process.cpuUsage()).
double NowUs() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

volatile int64_t g_sink = 0;  // keeps the optimizer from discarding outputs

// Opus decode at 48 kHz mono + speexdsp 48k -> 16k (the resampled receive path).
double DecodeResampled(const std::vector<Packet>& pkts, int quality, bool timed) {
  int err = 0;
  OpusDecoder* dec = opus_decoder_create(48000, 1, &err);
  SpeexResamplerState* rs = speex_resampler_init(1, 48000, 16000, quality, &err);
  speex_resampler_skip_zeros(rs);
  int16_t pcm[5760];
  int16_t out[2000];
  double t0 = NowUs();
  for (const Packet& p : pkts) {
    int n = opus_decode(dec, p.data, p.size, pcm, 5760, 0);
    spx_uint32_t in_len = static_cast<spx_uint32_t>(n);
    spx_uint32_t out_len = sizeof out / sizeof out[0];
    speex_resampler_process_int(rs, 0, pcm, &in_len, out, &out_len);
    g_sink += out[0] + static_cast<int>(out_len);
  }
  double t1 = NowUs();
  opus_decoder_destroy(dec);
  speex_resampler_destroy(rs);
  return timed ? (t1 - t0) / pkts.size() : 0;
}

// Opus decode straight at 16 kHz mono (the direct-rate receive path: no resampler).
double DecodeDirect(const std::vector<Packet>& pkts, bool timed) {
  int err = 0;
  OpusDecoder* dec = opus_decoder_create(16000, 1, &err);
  int16_t pcm[1920];
  double t0 = NowUs();
  for (const Packet& p : pkts) g_sink += opus_decode(dec, p.data, p.size, pcm, 1920, 0) + pcm[0];
  double t1 = NowUs();
  opus_decoder_destroy(dec);
  return timed ? (t1 - t0) / pkts.size() : 0;
}

OpusEncoder* MakeEncoder(int bitrate, int complexity, int fec, int loss) {
  int err = 0;
  OpusEncoder* enc = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
  opus_encoder_ctl(enc, OPUS_SET_BITRATE(bitrate));
  opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(complexity));
  opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(fec));
  opus_encoder_ctl(enc, OPUS_SET_DTX(0));
  opus_encoder_ctl(enc, OPUS_SET_PACKET_LOSS_PERC(loss));
  opus_encoder_ctl(enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
  return enc;
}

void WriteRtpHeader(uint8_t* p, uint16_t seq, uint32_t ts) {
  p[0] = 0x80;
  p[1] = 111;
  p[2] = static_cast<uint8_t>(seq >> 8);
  p[3] = static_cast<uint8_t>(seq);
  for (int i = 0; i < 4; ++i) p[4 + i] = static_cast<uint8_t>(ts >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) p[8 + i] = 0x42;
}

// 48 kHz PCM -> Opus 20 ms -> RTP header (the send path without resampling).
double Encode48(const int16_t* pcm, size_t chunks, int bitrate, int complexity, int fec, int loss,
                bool timed) {
  OpusEncoder* enc = MakeEncoder(bitrate, complexity, fec, loss);
  uint8_t pkt[1500];
  double t0 = NowUs();
  for (size_t i = 0; i < chunks; ++i) {
    int n = opus_encode(enc, pcm + i * 960, 960, pkt + 12, sizeof pkt - 12);
    WriteRtpHeader(pkt, static_cast<uint16_t>(i), static_cast<uint32_t>(i * 960));
    g_sink += n + pkt[13];
  }
  double t1 = NowUs();
  opus_encoder_destroy(enc);
  return timed ? (t1 - t0) / chunks : 0;
}

// 24 kHz PCM -> speexdsp 24k -> 48k -> Opus 20 ms -> RTP header (a TTS at 24 kHz feeding the send path).
double Encode24(const int16_t* pcm, size_t chunks, int bitrate, int complexity, int fec, int loss,
                int quality, bool timed) {
  OpusEncoder* enc = MakeEncoder(bitrate, complexity, fec, loss);
  int err = 0;
  SpeexResamplerState* rs = speex_resampler_init(1, 24000, 48000, quality, &err);
  speex_resampler_skip_zeros(rs);
  // Resampled samples accumulate here until a whole 960-sample frame is available (as a ring would).
  std::vector<int16_t> pending;
  pending.reserve(4096);
  int16_t up[2000];
  uint8_t pkt[1500];
  size_t sent = 0;
  double t0 = NowUs();
  for (size_t i = 0; i < chunks; ++i) {
    spx_uint32_t in_len = 480;
    spx_uint32_t out_len = sizeof up / sizeof up[0];
    speex_resampler_process_int(rs, 0, pcm + i * 480, &in_len, up, &out_len);
    pending.insert(pending.end(), up, up + out_len);
    if (pending.size() >= 960) {
      int n = opus_encode(enc, pending.data(), 960, pkt + 12, sizeof pkt - 12);
      WriteRtpHeader(pkt, static_cast<uint16_t>(sent), static_cast<uint32_t>(sent * 960));
      ++sent;
      g_sink += n + pkt[13];
      pending.erase(pending.begin(), pending.begin() + 960);
    }
  }
  double t1 = NowUs();
  opus_encoder_destroy(enc);
  speex_resampler_destroy(rs);
  return timed ? (t1 - t0) / chunks : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 9) {
    std::fprintf(stderr, "usage: %s packets pcm48 pcm24 bitrate complexity fec loss quality\n", argv[0]);
    return 2;
  }
  const std::vector<uint8_t> raw = ReadFile(argv[1]);
  std::vector<Packet> pkts;
  for (size_t pos = 0; pos + 2 <= raw.size();) {
    const int len = (raw[pos] << 8) | raw[pos + 1];
    pos += 2;
    if (pos + len > raw.size()) break;
    pkts.push_back(Packet{raw.data() + pos, len});
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

  DecodeResampled(pkts, quality, false);
  const double dr = DecodeResampled(pkts, quality, true);
  DecodeDirect(pkts, false);
  const double dd = DecodeDirect(pkts, true);
  Encode48(s48, chunks48, bitrate, complexity, fec, loss, false);
  const double e48 = Encode48(s48, chunks48, bitrate, complexity, fec, loss, true);
  Encode24(s24, chunks24, bitrate, complexity, fec, loss, quality, false);
  const double e24 = Encode24(s24, chunks24, bitrate, complexity, fec, loss, quality, true);
  std::printf(
      "{\"decodeResampled\":%.3f,\"decodeDirect\":%.3f,\"encode48\":%.3f,\"encode24\":%.3f,\"packets\":%zu}"
      "\n",
      dr, dd, e48, e24, pkts.size());
  return g_sink == 42 ? 1 : 0;
}
