#include "core/audio/resampler.h"

#include <speex/speex_resampler.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace sw {
namespace audio {

void PcmFifo::compact() {
  if (head_ == 0) return;
  const size_t n = buf_.size() - head_;
  if (n > 0) std::memmove(buf_.data(), buf_.data() + head_, n * sizeof(int16_t));
  buf_.resize(n);
  head_ = 0;
}

int16_t* PcmFifo::prepare(size_t frames) {
  if (head_ > 0 && (head_ * 2 >= buf_.size() || buf_.size() + frames * channels_ > buf_.capacity()))
    compact();
  const size_t old = buf_.size();
  reserved_ = frames * channels_;
  buf_.resize(old + reserved_);
  return buf_.data() + old;
}

void PcmFifo::append(const int16_t* pcm, size_t frames) {
  // Nothing to copy: callers pass an empty vector's data() (nullptr), which memcpy must never see.
  if (frames == 0) return;
  int16_t* dst = prepare(frames);
  std::memcpy(dst, pcm, frames * channels_ * sizeof(int16_t));
  commit(frames);
}

void PcmFifo::appendSilence(size_t frames) {
  if (frames == 0) return;
  int16_t* dst = prepare(frames);
  std::memset(dst, 0, frames * channels_ * sizeof(int16_t));
  commit(frames);
}

size_t PcmFifo::read(int16_t* out, size_t frames) {
  const size_t n = std::min(frames, this->frames());
  if (n > 0 && out != nullptr) std::memcpy(out, buf_.data() + head_, n * channels_ * sizeof(int16_t));
  head_ += n * channels_;
  if (head_ == buf_.size()) clear();
  return n;
}

size_t PcmFifo::drop(size_t frames) { return read(nullptr, frames); }

Resampler::Resampler(int inRate, int outRate, int inChannels, int outChannels, int quality)
    : inRate_(inRate),
      outRate_(outRate),
      inChannels_(inChannels),
      outChannels_(outChannels),
      quality_(quality),
      fifo_(outChannels) {
  if (inRate < 1000 || inRate > 384000) throw std::invalid_argument("inRate must be 1000..384000 Hz");
  if (outRate < 1000 || outRate > 384000) throw std::invalid_argument("outRate must be 1000..384000 Hz");
  if (inChannels < 1 || inChannels > 2) throw std::invalid_argument("inChannels must be 1 or 2");
  if (outChannels < 1 || outChannels > 2) throw std::invalid_argument("outChannels must be 1 or 2");
  if (quality < 0 || quality > 10) throw std::invalid_argument("quality must be 0..10");
  workChannels_ = std::min(inChannels, outChannels);
  if (inRate != outRate) {
    int err = 0;
    st_ = speex_resampler_init(static_cast<spx_uint32_t>(workChannels_), static_cast<spx_uint32_t>(inRate),
                               static_cast<spx_uint32_t>(outRate), quality, &err);
    if (st_ == nullptr || err != RESAMPLER_ERR_SUCCESS)
      throw std::runtime_error("speex_resampler_init failed");
    // Drop the filter's leading zeros so output is aligned with input as closely as speexdsp allows.
    speex_resampler_skip_zeros(st_);
  }
  fifo_.reserve(static_cast<size_t>(outRate) / 5);  // 200 ms, grows only if a caller writes more at once
}

Resampler::~Resampler() {
  if (st_) speex_resampler_destroy(st_);
}

int Resampler::latencySamples() const {
  return st_ ? speex_resampler_get_output_latency(const_cast<SpeexResamplerState*>(st_)) : 0;
}

void Resampler::reset() {
  if (st_) {
    speex_resampler_reset_mem(st_);
    speex_resampler_skip_zeros(st_);
  }
  fifo_.clear();
}

void Resampler::write(const int16_t* in, size_t frames) {
  if (in == nullptr || frames == 0) return;
  const int16_t* src = in;
  if (inChannels_ == 2 && outChannels_ == 1) {
    if (mix_.size() < frames) mix_.resize(frames);
    for (size_t i = 0; i < frames; ++i) {
      mix_[i] = static_cast<int16_t>((static_cast<int32_t>(in[2 * i]) + in[2 * i + 1]) / 2);
    }
    src = mix_.data();
  }
  const bool upmix = inChannels_ == 1 && outChannels_ == 2;
  if (st_ == nullptr) {
    if (!upmix) {
      fifo_.append(src, frames);
      return;
    }
    int16_t* dst = fifo_.prepare(frames);
    for (size_t i = 0; i < frames; ++i) dst[2 * i] = dst[2 * i + 1] = src[i];
    fifo_.commit(frames);
    return;
  }
  // Upper bound of output frames for this input, plus slack for the filter's fractional phase.
  const size_t maxOut = static_cast<size_t>((static_cast<uint64_t>(frames) * outRate_) / inRate_) + 16;
  int16_t* dst = nullptr;
  if (upmix) {
    if (res_.size() < maxOut) res_.resize(maxOut);
    dst = res_.data();
  } else {
    dst = fifo_.prepare(maxOut);
  }
  size_t produced = 0;
  size_t consumed = 0;
  while (consumed < frames && produced < maxOut) {
    spx_uint32_t inLen = static_cast<spx_uint32_t>(frames - consumed);
    spx_uint32_t outLen = static_cast<spx_uint32_t>(maxOut - produced);
    speex_resampler_process_interleaved_int(st_, src + consumed * workChannels_, &inLen,
                                            dst + produced * workChannels_, &outLen);
    consumed += inLen;
    produced += outLen;
    if (inLen == 0 && outLen == 0) break;
  }
  if (!upmix) {
    fifo_.commit(produced);
    return;
  }
  int16_t* out = fifo_.prepare(produced);
  for (size_t i = 0; i < produced; ++i) out[2 * i] = out[2 * i + 1] = res_[i];
  fifo_.commit(produced);
}

}  // namespace audio
}  // namespace sw
