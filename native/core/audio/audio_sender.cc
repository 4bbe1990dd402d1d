#include "core/audio/audio_sender.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "core/rtp/rtp_packet.h"

namespace sw {
namespace audio {

namespace {
constexpr size_t kMaxOpusBytes = 1275;  // largest single Opus frame (RFC 6716)

void ValidateMid(int id, const std::string& mid) {
  if (id == 0) return;
  if (id < 1 || id > 14) throw std::invalid_argument("midExtension.id must be 1..14");
  if (mid.empty() || mid.size() > 16) throw std::invalid_argument("midExtension.mid must be 1..16 bytes");
}
}  // namespace

AudioSender::AudioSender(const AudioSenderOptions& o)
    : o_(o), seq_(o.initialSequence), ts_(o.initialTimestamp) {
  if (o.sampleRate < 8000 || o.sampleRate > 192000)
    throw std::invalid_argument("sampleRate must be 8000..192000");
  if (o.channels != 1 && o.channels != 2) throw std::invalid_argument("channels must be 1 or 2");
  if (o.encodeChannels != 1 && o.encodeChannels != 2)
    throw std::invalid_argument("encodeChannels must be 1 or 2");
  if (o.payloadType < 0 || o.payloadType > 127) throw std::invalid_argument("payloadType must be 0..127");
  if (o.frameMs != 10 && o.frameMs != 20) throw std::invalid_argument("frameMs must be 10 or 20");
  if (o.capacityMs < 20 || o.capacityMs > 600000)
    throw std::invalid_argument("capacityMs must be 20..600000");
  ValidateMid(o.midExtensionId, o.mid);
  OpusEncoderOptions eo;
  eo.sampleRate = kOpusRtpClockRate;
  eo.channels = o.encodeChannels;
  eo.bitrate = o.bitrate;
  eo.complexity = o.complexity;
  eo.fec = o.fec;
  eo.dtx = o.dtx;
  eo.packetLossPercent = o.packetLossPercent;
  eo.frameMs = o.frameMs;
  encoder_ = std::make_unique<OpusEncoder>(eo);
  resampler_ = std::make_unique<Resampler>(o.sampleRate, kOpusRtpClockRate, o.channels, o.encodeChannels,
                                           o.resampleQuality);
  frameSamples_ = static_cast<size_t>(kOpusRtpClockRate / 1000 * o.frameMs);
  capacitySamples_ = static_cast<size_t>(o.capacityMs) * 48;
  ring().reserve(capacitySamples_ + 2 * frameSamples_);
  frame_.resize(frameSamples_ * static_cast<size_t>(o.encodeChannels));
  opus_.resize(kMaxOpusBytes);
  bytes_.reserve(kMaxBurst * 1400);
  offsets_.reserve(kMaxBurst);
  lens_.reserve(kMaxBurst);
  transitions_.reserve(2 * kMaxBurst);
}

size_t AudioSender::write(const int16_t* pcm, size_t frames) {
  if (pcm == nullptr || frames == 0) return 0;
  const size_t queued = ring().frames();
  size_t room48 = capacitySamples_ > queued ? capacitySamples_ - queued : 0;
  // Input frames whose resampled output fits; one less when the room is what limits it and the rates
  // differ (the filter's fractional phase can yield one extra output sample).
  size_t fit = static_cast<size_t>(static_cast<uint64_t>(room48) * o_.sampleRate / kOpusRtpClockRate);
  if (o_.sampleRate != kOpusRtpClockRate && fit > 0) fit--;
  const size_t accept = std::min(fit, frames);
  stats_.droppedOnWriteSamples += frames - accept;
  if (accept > 0) {
    resampler_->write(pcm, accept);
    expectedOut_ += static_cast<double>(accept) * kOpusRtpClockRate / o_.sampleRate;
    flushed_ = false;
    wroteSinceSlot_ = true;
  }
  return accept;
}

size_t AudioSender::pull(double nowMs) {
  bytes_.clear();
  offsets_.clear();
  lens_.clear();
  transitions_.clear();
  if (!std::isfinite(nowMs)) return 0;
  if (!started_) {
    started_ = true;
    nextSlotMs_ = nowMs;
  }
  if (nowMs < nextSlotMs_) return 0;
  int64_t due = static_cast<int64_t>(std::floor((nowMs - nextSlotMs_) / o_.frameMs)) + 1;
  if (due > kMaxBurst) {
    const int64_t skipped = due - 1;
    stats_.skippedSlots += static_cast<uint64_t>(skipped);
    ts_ += static_cast<uint32_t>(static_cast<uint64_t>(skipped) * frameSamples_);
    nextSlotMs_ += static_cast<double>(skipped) * o_.frameMs;
    markerNext_ = true;
    due = 1;
  }
  for (int64_t i = 0; i < due; ++i) {
    slot(nextSlotMs_);
    nextSlotMs_ += o_.frameMs;
  }
  return lens_.size();
}

void AudioSender::flushResampler() {
  // The filter holds the last few ms of what was written; at an underrun (end of an utterance) push zeros
  // through it so that tail is sent now instead of sitting there until the next write.
  flushed_ = true;
  const int lat = resampler_->latencySamples();
  if (lat <= 0) return;
  const size_t in = static_cast<size_t>(static_cast<int64_t>(lat) * o_.sampleRate / kOpusRtpClockRate + 2);
  zeros_.assign(in * static_cast<size_t>(o_.channels), 0);
  resampler_->write(zeros_.data(), in);
}

void AudioSender::slot(double atMs) {
  const size_t ch = static_cast<size_t>(o_.encodeChannels);
  const bool wrote = wroteSinceSlot_;
  wroteSinceSlot_ = false;
  // Flush the resampler's tail only once the writer has gone idle (end of an utterance): flushing while it
  // keeps writing just in time would insert the flush's zeros between two of its chunks.
  if (ring().frames() < frameSamples_ && !flushed_ && !wrote) flushResampler();
  const size_t avail = std::min(ring().frames(), frameSamples_);
  size_t offset = 0;
  if (avail < frameSamples_ && avail > 0 && !lastSlotAudio_ && realQueued() > 0) {
    // First packet of a talkspurt and less than a frame ready (the filter holds a few samples): put the
    // padding before the audio, so the speech starts a little later instead of having a hole after it.
    offset = frameSamples_ - avail;
  }
  std::fill(frame_.begin(), frame_.end(), 0);
  const size_t taken = ring().read(frame_.data() + offset * ch, avail);
  const size_t real =
      static_cast<size_t>(std::min<double>(static_cast<double>(taken), std::ceil(realQueued())));
  consumedOut_ += static_cast<double>(taken);
  if (realQueued() <= 0) {
    // Only flush zeros (or nothing) left: drop them so they are not sent as "audio", realign the counters.
    ring().clear();
    expectedOut_ = consumedOut_ = 0;
  }
  const bool audio = real > 0;
  if (audio != speaking_) {
    speaking_ = audio;
    transitions_.push_back(SpeakingTransition{audio, atMs, playedOutMs()});
  }
  playedOut_ += real;
  bool sent = false;
  if (audio || o_.autoSilence) {
    const int n = encoder_->encode(frame_.data(), opus_.data(), static_cast<int>(opus_.size()));
    if (n < 0) {
      stats_.encodeErrors++;
    } else if (o_.dtx && n <= 2) {
      stats_.dtxSlots++;  // libopus signals "nothing to transmit" with a 1-2 byte DTX frame
    } else {
      const bool marker = markerNext_ || (audio && !lastSlotAudio_);
      emit(opus_.data(), static_cast<size_t>(n), marker);
      sent = true;
      if (audio) {
        stats_.audioPackets++;
      } else {
        stats_.silencePackets++;
      }
    }
  }
  markerNext_ = !sent;
  lastSlotAudio_ = audio;
  ts_ += static_cast<uint32_t>(frameSamples_);
}

void AudioSender::emit(const uint8_t* payload, size_t len, bool marker) {
  rtp::RtpBuildParams p;
  p.marker = marker;
  p.payload_type = static_cast<uint8_t>(o_.payloadType);
  p.sequence_number = seq_;
  p.timestamp = ts_;
  p.ssrc = o_.ssrc;
  rtp::ExtensionToWrite ext{static_cast<uint8_t>(o_.midExtensionId),
                            reinterpret_cast<const uint8_t*>(o_.mid.data()), o_.mid.size()};
  if (o_.midExtensionId != 0) {
    p.extensions = &ext;
    p.extension_count = 1;
  }
  const size_t size = rtp::RtpPacketSize(p, len);
  if (size == 0) {
    stats_.encodeErrors++;
    return;
  }
  const size_t off = bytes_.size();
  bytes_.resize(off + size);
  size_t written = 0;
  if (rtp::BuildRtp(p, payload, len, bytes_.data() + off, size, &written) != rtp::RtpStatus::kOk) {
    bytes_.resize(off);
    stats_.encodeErrors++;
    return;
  }
  offsets_.push_back(off);
  lens_.push_back(written);
  seq_++;
  stats_.packetsSent++;
}

double AudioSender::clear() {
  // Keep the next kClearFadeSamples faded out to zero (no click), drop everything else: the next packet
  // carries at most that fade, so the cut is effective within one packet.
  const double queued = realQueued();
  const size_t keep = std::min<size_t>({ring().frames(), kClearFadeSamples, static_cast<size_t>(queued)});
  const size_t ch = static_cast<size_t>(o_.encodeChannels);
  fade_.resize(keep * ch);
  ring().read(fade_.data(), keep);
  for (size_t i = 0; i < keep; ++i) {
    const double g = 1.0 - static_cast<double>(i + 1) / static_cast<double>(keep);
    for (size_t c = 0; c < ch; ++c) fade_[i * ch + c] = static_cast<int16_t>(fade_[i * ch + c] * g);
  }
  resampler_->reset();
  ring().append(fade_.data(), keep);
  expectedOut_ = static_cast<double>(keep);
  consumedOut_ = 0;
  flushed_ = true;
  return (queued - static_cast<double>(keep)) / 48.0;
}

void AudioSender::setSsrc(uint32_t ssrc) {
  if (ssrc != o_.ssrc) markerNext_ = true;
  o_.ssrc = ssrc;
}

void AudioSender::setPayloadType(int pt) {
  if (pt < 0 || pt > 127) throw std::invalid_argument("payloadType must be 0..127");
  o_.payloadType = pt;
}

void AudioSender::setMidExtension(int id, const std::string& mid) {
  ValidateMid(id, mid);
  o_.midExtensionId = id;
  o_.mid = id == 0 ? std::string() : mid;
}

}  // namespace audio
}  // namespace sw
