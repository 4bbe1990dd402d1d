#include "core/audio/audio_receiver.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "core/rtp/rtp_packet.h"

namespace sw {
namespace audio {

AudioReceiver::AudioReceiver(const AudioReceiverOptions& o) : o_(o), jb_(o.jitter) {
  if (o.sampleRate < 8000 || o.sampleRate > 192000)
    throw std::invalid_argument("sampleRate must be 8000..192000");
  if (o.channels != 1 && o.channels != 2) throw std::invalid_argument("channels must be 1 or 2");
  if (o.frameMs != 10 && o.frameMs != 20) throw std::invalid_argument("frameMs must be 10 or 20");
  if (o.payloadType < -1 || o.payloadType > 127) throw std::invalid_argument("payloadType must be 0..127");
  if ((o.sampleRate * o.frameMs) % 1000 != 0) {
    throw std::invalid_argument("sampleRate * frameMs must be a whole number of samples");
  }
  decodeRate_ = (o.decodeAtTargetRate && IsOpusNativeRate(o.sampleRate)) ? o.sampleRate : kOpusRtpClockRate;
  decoder_ = std::make_unique<OpusDecoder>(decodeRate_, o.channels);
  if (decodeRate_ != o.sampleRate) {
    resampler_ =
        std::make_unique<Resampler>(decodeRate_, o.sampleRate, o.channels, o.channels, o.resampleQuality);
  }
  direct_.setChannels(o.channels);
  frameSamples_ = static_cast<size_t>(o.sampleRate) * static_cast<size_t>(o.frameMs) / 1000;
  pcm_.resize(static_cast<size_t>(decoder_->maxFrameSamples()) * static_cast<size_t>(o.channels));
  // Preallocate for a burst of ~0.5 s of output so steady-state calls do not allocate.
  const size_t burstFrames = 500 / static_cast<size_t>(o.frameMs);
  out_.reserve(burstFrames * frameLen());
  frames_.reserve(burstFrames);
  direct_.reserve(static_cast<size_t>(o.sampleRate) / 5);
  concealedRanges_.reserve(64);
}

AudioReceiverStats AudioReceiver::stats() const {
  AudioReceiverStats s;
  s.jitter = jb_.stats();
  s.framesOut = framesOut_;
  s.decodeErrors = decodeErrors_;
  s.rtpErrors = rtpErrors_;
  s.payloadTypeDropped = ptDropped_;
  return s;
}

bool AudioReceiver::push(const uint8_t* packet, size_t len, double arrivalMs) {
  out_.clear();
  frames_.clear();
  rtp::RtpHeader h;
  if (packet == nullptr || rtp::ParseRtp(packet, len, &h) != rtp::RtpStatus::kOk ||
      rtp::LooksLikeRtcp(packet, len)) {
    rtpErrors_++;
    return false;
  }
  if (o_.payloadType >= 0 && h.payload_type != o_.payloadType) {
    ptDropped_++;
    return false;
  }
  const PushResult r = jb_.push(packet + h.payload_offset, h.payload_size, h.ssrc, h.sequence_number,
                                h.timestamp, arrivalMs, *this);
  return r != PushResult::kInvalid;
}

void AudioReceiver::poll(double nowMs) {
  out_.clear();
  frames_.clear();
  jb_.poll(nowMs, *this);
}

void AudioReceiver::reset() {
  jb_.reset();
  decoder_->reset();
  if (resampler_) resampler_->reset();
  direct_.clear();
  concealedRanges_.clear();
  written_ = read_ = 0;
  out_.clear();
  frames_.clear();
}

void AudioReceiver::onJitterEvent(const JitterEvent& e) {
  const int ch = o_.channels;
  int n = 0;
  bool concealed = false;
  switch (e.kind) {
    case JitterEvent::Kind::kReset:
      decoder_->reset();
      return;
    case JitterEvent::Kind::kPacket: {
      n = decoder_->decode(e.data, e.len, pcm_.data(), decoder_->maxFrameSamples());
      if (n < 0) {
        // Undecodable despite a valid TOC: conceal its slot instead, keeping the timeline exact.
        decodeErrors_++;
        const size_t want = toDecodeRate(e.samples);
        const int plc =
            static_cast<int>((want + static_cast<size_t>(decodeRate_ / 400) - 1) /
                             static_cast<size_t>(decodeRate_ / 400) * static_cast<size_t>(decodeRate_ / 400));
        n = decoder_->conceal(std::min(plc, decoder_->maxFrameSamples()), pcm_.data());
        if (n < 0) return;
        deliver(pcm_.data(), std::min(want, static_cast<size_t>(n)), true);
        return;
      }
      const size_t skip = std::min(toDecodeRate(e.skip), static_cast<size_t>(n));
      const size_t count = std::min(toDecodeRate(e.samples), static_cast<size_t>(n) - skip);
      deliver(pcm_.data() + skip * static_cast<size_t>(ch), count, false);
      return;
    }
    case JitterEvent::Kind::kFec:
      n = decoder_->decodeFec(e.data, e.len, static_cast<int>(toDecodeRate(e.decodeSamples)), pcm_.data());
      concealed = true;
      break;
    case JitterEvent::Kind::kPlc:
      n = decoder_->conceal(static_cast<int>(toDecodeRate(e.decodeSamples)), pcm_.data());
      concealed = true;
      break;
    case JitterEvent::Kind::kSilence:
      // DTX: libopus' PLC after a DTX frame is its comfort noise, the documented way to render DTX gaps.
      n = decoder_->conceal(static_cast<int>(toDecodeRate(e.decodeSamples)), pcm_.data());
      break;
  }
  const size_t want = toDecodeRate(e.samples);
  if (n < 0) {
    decodeErrors_++;
    std::fill(pcm_.begin(), pcm_.begin() + static_cast<std::ptrdiff_t>(std::min(want * ch, pcm_.size())), 0);
    n = static_cast<int>(std::min(want, pcm_.size() / ch));
  }
  deliver(pcm_.data(), std::min(want, static_cast<size_t>(n)), concealed);
}

void AudioReceiver::deliver(const int16_t* pcm, size_t samples, bool concealed) {
  if (samples == 0) return;
  PcmFifo& fifo = resampler_ ? resampler_->fifo() : direct_;
  const size_t before = fifo.frames();
  if (resampler_) {
    resampler_->write(pcm, samples);
  } else {
    direct_.append(pcm, samples);
  }
  const size_t added = fifo.frames() - before;
  if (concealed && added > 0) {
    if (!concealedRanges_.empty() && concealedRanges_.back().second == written_) {
      concealedRanges_.back().second += added;
    } else {
      concealedRanges_.emplace_back(written_, written_ + added);
    }
  }
  written_ += added;
  cutFrames();
}

void AudioReceiver::cutFrames() {
  PcmFifo& fifo = resampler_ ? resampler_->fifo() : direct_;
  const size_t len = frameLen();
  while (fifo.frames() >= frameSamples_) {
    const size_t off = out_.size();
    out_.resize(off + len);
    fifo.read(out_.data() + off, frameSamples_);
    const uint64_t start = read_, end = read_ + frameSamples_;
    bool concealed = false;
    for (const auto& r : concealedRanges_) {
      if (r.first < end && r.second > start) {
        concealed = true;
        break;
      }
    }
    while (!concealedRanges_.empty() && concealedRanges_.front().second <= end) {
      concealedRanges_.erase(concealedRanges_.begin());
    }
    read_ = end;
    frames_.push_back(ReceivedFrame{static_cast<double>(framesOut_) * o_.frameMs, concealed});
    framesOut_++;
  }
}

}  // namespace audio
}  // namespace sw
