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
// A slot whose samples all stay within this (-72 dBFS) is digital silence: a muted or DTX-silent user echoed,
// or the auto-silence of an idle sender.
constexpr int kSilentPeak = 8;
// Digital silence is encoded as usual for this long (the encoder's own DTX hangover: the tail of what was
// said and the encoder's state settle into silence), then no longer: see AudioEncodeStage::run.
constexpr int kSilenceHangoverMs = 200;
// With DTX, one packet per this long while silent, as libopus' DTX sends its comfort-noise refresh.
constexpr int kDtxRefreshMs = 400;
// The 2 bytes after the TOC of a CELT-only frame with its silence flag set: decodes to zeros in any decoder
// state (the packet browsers and SFUs send for silence).
constexpr uint8_t kCeltSilence[2] = {0xff, 0xfe};

bool IsSilent(const std::vector<int16_t>& pcm) {
  for (const int16_t x : pcm) {
    if (x > kSilentPeak || x < -kSilentPeak) return false;
  }
  return true;
}

void ValidateMid(int id, const std::string& mid) {
  if (id == 0) return;
  if (id < 1 || id > 14) throw std::invalid_argument("midExtension.id must be 1..14");
  if (mid.empty() || mid.size() > 16) throw std::invalid_argument("midExtension.mid must be 1..16 bytes");
}
}  // namespace

AudioEncodeStage::AudioEncodeStage(const AudioSenderOptions& o)
    : dtx_(o.dtx),
      frameSamples_(static_cast<size_t>(kOpusRtpClockRate / 1000 * o.frameMs)),
      seq_(o.initialSequence),
      ts_(o.initialTimestamp),
      initialTs_(o.initialTimestamp),
      lastSsrc_(o.ssrc),
      bitrate_(o.bitrate),
      loss_(o.packetLossPercent),
      hangoverSlots_(static_cast<uint64_t>(kSilenceHangoverMs / o.frameMs)),
      refreshSlots_(static_cast<uint64_t>(kDtxRefreshMs / o.frameMs)),
      // TOC: config 31 (CELT-only, fullband, 20 ms) or 30 (10 ms), mono, one frame.
      silenceToc_(static_cast<uint8_t>((o.frameMs == 10 ? 30 : 31) << 3)) {
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
  opus_.resize(kMaxOpusBytes);
  c_.nextSequence = seq_;
  c_.nextTimestamp = ts_;
}

void AudioEncodeStage::run(const EncodeBatch& b, PacketBatch* out) {
  run(b.slots.data(), b.slots.size(), b.settings, out);
}

void AudioEncodeStage::run(const SlotFrame* slots, size_t count, const EncodeSettings& st, PacketBatch* out) {
  if (st.bitrate != bitrate_) {
    encoder_->setBitrate(st.bitrate);
    bitrate_ = st.bitrate;
  }
  if (st.packetLossPercent != loss_) {
    encoder_->setPacketLossPercent(st.packetLossPercent);
    loss_ = st.packetLossPercent;
  }
  if (st.ssrc != lastSsrc_) {
    markerNext_ = true;  // a new stream starts with a marker
    lastSsrc_ = st.ssrc;
  }
  for (size_t i = 0; i < count; ++i) {
    const SlotFrame& f = slots[i];
    if (started_ && f.index != nextIndex_) {
      // Slots that never reached the stage: skipped after a stall, or a batch dropped by the worker queue's
      // policy. The timestamp still covers them (a pause to the receiver, not loss), with a marker after.
      markerNext_ = true;
    }
    started_ = true;
    nextIndex_ = f.index + 1;
    ts_ = initialTs_ + static_cast<uint32_t>(f.index * frameSamples_);  // mod 2^32, as RTP wants
    bool sent = false;
    // Sends opus_[0..len) as this slot's packet (marker after a pause or at the start of speech) and counts
    // it; false when the packet could not be built.
    auto emitSlot = [&](size_t len) {
      const bool marker = markerNext_ || (f.audio && !lastSlotAudio_);
      const size_t before = out->size();
      emit(st, opus_.data(), len, marker, f.atMs, out);
      if (out->size() == before) return false;
      if (f.audio) {
        c_.audioPackets++;
      } else {
        c_.silencePackets++;
      }
      return true;
    };
    const bool silent = f.encode && f.pcm.size() >= frameSamples_ && IsSilent(f.pcm);
    silentRun_ = silent ? silentRun_ + 1 : 0;
    if (silentRun_ > hangoverSlots_) {
      // Past the hangover, digital silence is not encoded (an encode costs 70-120 us, about 0.5 % of a core
      // per idle session at 50 slots/s): without DTX every slot carries the CELT silence frame, with DTX only
      // one slot per kDtxRefreshMs does (the rest are DTX slots, sent as nothing, as the encoder's own DTX
      // would). The encoder does not see these slots; it resumes from the settled silence of the hangover.
      const uint64_t k = silentRun_ - hangoverSlots_ - 1;
      if (dtx_ && k % refreshSlots_ != 0) {
        c_.dtxSlots++;
      } else {
        opus_[0] = silenceToc_;
        opus_[1] = kCeltSilence[0];
        opus_[2] = kCeltSilence[1];
        sent = emitSlot(3);
      }
    } else if (f.encode && f.pcm.size() >= frameSamples_) {
      const int n = encoder_->encode(f.pcm.data(), opus_.data(), static_cast<int>(opus_.size()));
      if (n < 0) {
        c_.encodeErrors++;
      } else if (dtx_ && n <= 2) {
        c_.dtxSlots++;  // libopus signals "nothing to transmit" with a 1-2 byte DTX frame
      } else {
        sent = emitSlot(static_cast<size_t>(n));
      }
    }
    markerNext_ = !sent;
    lastSlotAudio_ = f.audio;
    ts_ += static_cast<uint32_t>(frameSamples_);
  }
  c_.nextSequence = seq_;
  c_.nextTimestamp = ts_;
}

void AudioEncodeStage::emit(const EncodeSettings& st, const uint8_t* payload, size_t len, bool marker,
                            double atMs, PacketBatch* out) {
  rtp::RtpBuildParams p;
  p.marker = marker;
  p.payload_type = static_cast<uint8_t>(st.payloadType);
  p.sequence_number = seq_;
  p.timestamp = ts_;
  p.ssrc = st.ssrc;
  rtp::ExtensionToWrite ext{static_cast<uint8_t>(st.midExtensionId),
                            reinterpret_cast<const uint8_t*>(st.mid.data()), st.mid.size()};
  if (st.midExtensionId != 0) {
    p.extensions = &ext;
    p.extension_count = 1;
  }
  const size_t size = rtp::RtpPacketSize(p, len);
  if (size == 0) {
    c_.encodeErrors++;
    return;
  }
  const size_t off = out->bytes.size();
  out->bytes.resize(off + size);
  size_t written = 0;
  if (rtp::BuildRtp(p, payload, len, out->bytes.data() + off, size, &written) != rtp::RtpStatus::kOk) {
    out->bytes.resize(off);
    c_.encodeErrors++;
    return;
  }
  out->offsets.push_back(off);
  out->lens.push_back(written);
  out->atMs.push_back(atMs);
  seq_++;
  c_.packetsSent++;
}

AudioSender::AudioSender(const AudioSenderOptions& o) : o_(o) {
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
  stage_ = std::make_shared<AudioEncodeStage>(o);
  resampler_ = std::make_unique<Resampler>(o.sampleRate, kOpusRtpClockRate, o.channels, o.encodeChannels,
                                           o.resampleQuality);
  settings_.ssrc = o.ssrc;
  settings_.payloadType = o.payloadType;
  settings_.midExtensionId = o.midExtensionId;
  settings_.mid = o.midExtensionId == 0 ? std::string() : o.mid;
  settings_.bitrate = o.bitrate;
  settings_.packetLossPercent = o.packetLossPercent;
  frameSamples_ = static_cast<size_t>(kOpusRtpClockRate / 1000 * o.frameMs);
  capacitySamples_ = static_cast<size_t>(o.capacityMs) * 48;
  // No ring storage up front: the FIFO grows with what is written (amortized doubling) and is freed again
  // once drained (slot()), so capacityMs is a bound, not an allocation.
  batch_.slots.reserve(kMaxBurst);
  out_.bytes.reserve(kMaxBurst * 1400);
  out_.offsets.reserve(kMaxBurst);
  out_.lens.reserve(kMaxBurst);
  out_.atMs.reserve(kMaxBurst);
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
  out_.clear();
  transitions_.clear();
  // Deferred: slots nobody took with takeBatch() are dropped here (bounded); the stage sees an index gap.
  // Inline: the SlotFrames (and their PCM buffers) are reused, no allocation per slot.
  if (deferred_) batch_.slots.clear();
  slotsUsed_ = 0;
  if (!std::isfinite(nowMs)) return 0;
  if (!started_) {
    started_ = true;
    nextSlotMs_ = nowMs;
  }
  if (nowMs < nextSlotMs_) return 0;
  int64_t due = static_cast<int64_t>(std::floor((nowMs - nextSlotMs_) / o_.frameMs)) + 1;
  // Behind the slot grid by more than the catch-up window (a stall of over a second): the oldest slots are
  // skipped, so the stream resumes at most that far behind the clock.
  const int64_t maxLag = std::max<int64_t>(kMaxBurst, kMaxCatchUpMs / o_.frameMs);
  if (due > maxLag) {
    const int64_t skipped = due - maxLag;
    stats_.skippedSlots += static_cast<uint64_t>(skipped);
    nextSlotMs_ += static_cast<double>(skipped) * o_.frameMs;
    slotIndex_ += static_cast<uint64_t>(skipped);  // the stage sees the index gap: timestamp + marker
    due = maxLag;
  }
  // Behind by less: kMaxBurst slots now, the rest in the next pulls (kMaxBurst each), until the stream is
  // back on the grid.
  if (due > kMaxBurst) {
    stats_.lateSlots += static_cast<uint64_t>(due - kMaxBurst);
    due = kMaxBurst;
  }
  for (int64_t i = 0; i < due; ++i) {
    slot(nextSlotMs_);
    nextSlotMs_ += o_.frameMs;
  }
  if (deferred_) {
    batch_.settings = settings_;
    return 0;
  }
  stage_->run(batch_.slots.data(), slotsUsed_, settings_, &out_);
  return out_.size();
}

bool AudioSender::takeBatch(EncodeBatch* out) {
  if (!deferred_ || batch_.slots.empty()) return false;
  *out = std::move(batch_);
  batch_ = EncodeBatch();
  batch_.slots.reserve(kMaxBurst);
  slotsUsed_ = 0;
  return true;
}

AudioSenderStats AudioSender::stats() const {
  AudioSenderStats s = stats_;
  const AudioEncodeStage::Counters& c = stage_->counters();
  s.packetsSent = c.packetsSent.load();
  s.audioPackets = c.audioPackets.load();
  s.silencePackets = c.silencePackets.load();
  s.dtxSlots = c.dtxSlots.load();
  s.encodeErrors = c.encodeErrors.load();
  s.ringBytes = ring().allocatedBytes();
  return s;
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
  if (slotsUsed_ == batch_.slots.size()) batch_.slots.emplace_back();
  SlotFrame& f = batch_.slots[slotsUsed_++];
  f.pcm.assign(frameSamples_ * ch, 0);
  const size_t taken = ring().read(f.pcm.data() + offset * ch, avail);
  const size_t real =
      static_cast<size_t>(std::min<double>(static_cast<double>(taken), std::ceil(realQueued())));
  consumedOut_ += static_cast<double>(taken);
  if (realQueued() <= 0) {
    // Only flush zeros (or nothing) left: drop them so they are not sent as "audio", realign the counters.
    ring().clear();
    expectedOut_ = consumedOut_ = 0;
    if (ring().allocatedBytes() > kKeepRingBytes) ring().release();
  }
  const bool audio = real > 0;
  if (audio != speaking_) {
    speaking_ = audio;
    transitions_.push_back(SpeakingTransition{audio, atMs, playedOutMs()});
  }
  playedOut_ += real;
  f.atMs = atMs;
  f.index = slotIndex_++;
  f.audio = audio;
  f.encode = audio || o_.autoSilence;
  if (!f.encode) f.pcm.clear();
  lastSlotAudio_ = audio;
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
  // The stage starts the new stream with a marker when it sees the SSRC change in the next batch.
  o_.ssrc = ssrc;
  settings_.ssrc = ssrc;
}

void AudioSender::setPayloadType(int pt) {
  if (pt < 0 || pt > 127) throw std::invalid_argument("payloadType must be 0..127");
  o_.payloadType = pt;
  settings_.payloadType = pt;
}

void AudioSender::setMidExtension(int id, const std::string& mid) {
  ValidateMid(id, mid);
  o_.midExtensionId = id;
  o_.mid = id == 0 ? std::string() : mid;
  settings_.midExtensionId = id;
  settings_.mid = o_.mid;
}

}  // namespace audio
}  // namespace sw
