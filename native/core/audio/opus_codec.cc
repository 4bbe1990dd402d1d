#include "core/audio/opus_codec.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace sw {
namespace audio {

bool IsOpusNativeRate(int rate) {
  return rate == 8000 || rate == 12000 || rate == 16000 || rate == 24000 || rate == 48000;
}

int OpusPacketSamples(const uint8_t* data, size_t len, int rate) {
  if (data == nullptr || len == 0 || len > 0x7fffffff) return OPUS_INVALID_PACKET;
  return opus_packet_get_nb_samples(data, static_cast<opus_int32>(len), rate);
}

int OpusPacketFrameSamples(const uint8_t* data, size_t len, int rate) {
  if (data == nullptr || len == 0) return OPUS_INVALID_PACKET;
  return opus_packet_get_samples_per_frame(data, rate);
}

bool OpusPacketHasFec(const uint8_t* data, size_t len) {
  if (data == nullptr || len < 2) return false;
  if (data[0] & 0x80) return false;  // CELT-only configurations carry no SILK LBRR
  // SILK frames per Opus frame, from the frame duration (the config's low bits mean different things in
  // the SILK-only and hybrid ranges, so they cannot be used directly).
  int silkFrames = 0;
  switch (opus_packet_get_samples_per_frame(data, 48000)) {
    case 480:
    case 960:
      silkFrames = 1;
      break;
    case 1920:
      silkFrames = 2;
      break;
    case 2880:
      silkFrames = 3;
      break;
    default:
      return false;
  }
  const int channels = opus_packet_get_nb_channels(data);
  const unsigned char* frames[48];
  opus_int16 sizes[48];
  const int n = opus_packet_parse(data, static_cast<opus_int32>(len), nullptr, frames, sizes, nullptr);
  if (n <= 0 || sizes[0] <= 0) return false;
  for (int ch = 0; ch < channels; ++ch) {
    // LBRR flag of channel ch is bit (ch + 1) * (silkFrames + 1) - 1 counted from the MSB.
    if (frames[0][0] & (0x80 >> ((ch + 1) * (silkFrames + 1) - 1))) return true;
  }
  return false;
}

OpusDecoder::OpusDecoder(int sampleRate, int outChannels) : rate_(sampleRate), outChannels_(outChannels) {
  if (!IsOpusNativeRate(sampleRate)) {
    throw std::invalid_argument("sampleRate must be 8000, 12000, 16000, 24000 or 48000");
  }
  if (outChannels < 1 || outChannels > 8) throw std::invalid_argument("channels must be 1..8");
  decodeChannels_ = outChannels >= 2 ? 2 : 1;
  int err = 0;
  dec_ = opus_decoder_create(sampleRate, decodeChannels_, &err);
  if (err != OPUS_OK || dec_ == nullptr)
    throw std::runtime_error(std::string("opus_decoder_create: ") + opus_strerror(err));
  if (outChannels_ > 2) scratch_.resize(static_cast<size_t>(maxFrameSamples()) * 2);
}

OpusDecoder::~OpusDecoder() {
  if (dec_) opus_decoder_destroy(dec_);
}

int OpusDecoder::expand(int n, int16_t* out) {
  if (n <= 0 || outChannels_ <= 2) return n;
  for (int i = 0; i < n; ++i) {
    for (int c = 0; c < outChannels_; ++c) out[i * outChannels_ + c] = scratch_[i * 2 + (c % 2)];
  }
  return n;
}

int OpusDecoder::decode(const uint8_t* data, size_t len, int16_t* out, int maxSamples) {
  if (data == nullptr || len == 0 || len > 0x7fffffff || out == nullptr) return OPUS_BAD_ARG;
  const int cap = std::min(maxSamples, maxFrameSamples());
  int16_t* dst = outChannels_ > 2 ? scratch_.data() : out;
  int n = opus_decode(dec_, data, static_cast<opus_int32>(len), dst, cap, 0);
  return expand(n, out);
}

int OpusDecoder::decodeFec(const uint8_t* data, size_t len, int samples, int16_t* out) {
  if (data == nullptr || len == 0 || out == nullptr || samples <= 0 || samples > maxFrameSamples()) {
    return OPUS_BAD_ARG;
  }
  int16_t* dst = outChannels_ > 2 ? scratch_.data() : out;
  int n = opus_decode(dec_, data, static_cast<opus_int32>(len), dst, samples, 1);
  return expand(n, out);
}

int OpusDecoder::conceal(int samples, int16_t* out) {
  if (out == nullptr || samples <= 0 || samples > maxFrameSamples()) return OPUS_BAD_ARG;
  int16_t* dst = outChannels_ > 2 ? scratch_.data() : out;
  int n = opus_decode(dec_, nullptr, 0, dst, samples, 0);
  return expand(n, out);
}

void OpusDecoder::reset() { opus_decoder_ctl(dec_, OPUS_RESET_STATE); }

OpusEncoder::OpusEncoder(const OpusEncoderOptions& o) : o_(o) {
  if (!IsOpusNativeRate(o.sampleRate)) {
    throw std::invalid_argument("sampleRate must be 8000, 12000, 16000, 24000 or 48000");
  }
  if (o.channels != 1 && o.channels != 2) throw std::invalid_argument("channels must be 1 or 2");
  if (o.bitrate < 6000 || o.bitrate > 510000) throw std::invalid_argument("bitrate must be 6000..510000");
  if (o.complexity < 0 || o.complexity > 10) throw std::invalid_argument("complexity must be 0..10");
  if (o.packetLossPercent < 0 || o.packetLossPercent > 100) {
    throw std::invalid_argument("packetLossPercent must be 0..100");
  }
  if (o.frameMs != 10 && o.frameMs != 20 && o.frameMs != 40 && o.frameMs != 60) {
    throw std::invalid_argument("frameMs must be 10, 20, 40 or 60");
  }
  int err = 0;
  enc_ = opus_encoder_create(o.sampleRate, o.channels, OPUS_APPLICATION_VOIP, &err);
  if (err != OPUS_OK || enc_ == nullptr)
    throw std::runtime_error(std::string("opus_encoder_create: ") + opus_strerror(err));
  opus_encoder_ctl(enc_, OPUS_SET_BITRATE(o.bitrate));
  opus_encoder_ctl(enc_, OPUS_SET_COMPLEXITY(o.complexity));
  opus_encoder_ctl(enc_, OPUS_SET_INBAND_FEC(o.fec ? 1 : 0));
  opus_encoder_ctl(enc_, OPUS_SET_DTX(o.dtx ? 1 : 0));
  opus_encoder_ctl(enc_, OPUS_SET_PACKET_LOSS_PERC(o.packetLossPercent));
  opus_encoder_ctl(enc_, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
}

OpusEncoder::~OpusEncoder() {
  if (enc_) opus_encoder_destroy(enc_);
}

int OpusEncoder::encode(const int16_t* pcm, uint8_t* out, int maxBytes) {
  if (pcm == nullptr || out == nullptr || maxBytes <= 0) return OPUS_BAD_ARG;
  return opus_encode(enc_, pcm, frameSamples(), out, maxBytes);
}

bool OpusEncoder::inDtx() {
  opus_int32 v = 0;
  if (opus_encoder_ctl(enc_, OPUS_GET_IN_DTX(&v)) != OPUS_OK) return false;
  return v != 0;
}

void OpusEncoder::setBitrate(int bitrate) {
  if (bitrate < 6000 || bitrate > 510000) throw std::invalid_argument("bitrate must be 6000..510000");
  o_.bitrate = bitrate;
  opus_encoder_ctl(enc_, OPUS_SET_BITRATE(bitrate));
}

void OpusEncoder::setPacketLossPercent(int percent) {
  if (percent < 0 || percent > 100) throw std::invalid_argument("packetLossPercent must be 0..100");
  o_.packetLossPercent = percent;
  opus_encoder_ctl(enc_, OPUS_SET_PACKET_LOSS_PERC(percent));
}

void OpusEncoder::reset() { opus_encoder_ctl(enc_, OPUS_RESET_STATE); }

}  // namespace audio
}  // namespace sw
