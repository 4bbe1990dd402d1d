#include "core/video/vp8_packetizer.h"

#include <stdexcept>

#include "core/rtp/rtp_packet.h"

namespace sw::video {
namespace {

void CheckMid(int id, const std::string& mid) {
  if (id < 0 || id > 14) throw std::invalid_argument("midExtension id must be in [0, 14]");
  if (id != 0 && (mid.empty() || mid.size() > 16)) {
    throw std::invalid_argument("mid must hold 1..16 bytes");
  }
}

}  // namespace

Vp8Packetizer::Vp8Packetizer(const Vp8PacketizerOptions& options)
    : o_(options), seq_(options.initial_sequence), picture_id_(options.initial_picture_id) {
  if (o_.payload_type > 127) throw std::invalid_argument("payloadType must be in [0, 127]");
  if (o_.initial_picture_id > 0x7FFF) throw std::invalid_argument("initialPictureId must be in [0, 32767]");
  if (o_.mtu < 64 || o_.mtu > 65507) throw std::invalid_argument("mtu must be in [64, 65507]");
  CheckMid(o_.mid_extension_id, o_.mid);
  if (MaxPayloadPerPacket() == 0) throw std::invalid_argument("mtu leaves no room for VP8 data");
}

void Vp8Packetizer::SetMidExtension(int id, const std::string& mid) {
  CheckMid(id, mid);
  const int old_id = o_.mid_extension_id;
  const std::string old_mid = o_.mid;
  o_.mid_extension_id = id;
  o_.mid = id == 0 ? std::string() : mid;
  if (MaxPayloadPerPacket() == 0) {
    o_.mid_extension_id = old_id;
    o_.mid = old_mid;
    throw std::invalid_argument("mtu leaves no room for VP8 data with this extension");
  }
}

void Vp8Packetizer::SetPayloadType(uint8_t pt) {
  if (pt > 127) throw std::invalid_argument("payloadType must be in [0, 127]");
  o_.payload_type = pt;
}

size_t Vp8Packetizer::HeaderSize() const {
  rtp::RtpBuildParams p;
  rtp::ExtensionToWrite ext{static_cast<uint8_t>(o_.mid_extension_id),
                            reinterpret_cast<const uint8_t*>(o_.mid.data()), o_.mid.size()};
  if (o_.mid_extension_id != 0) {
    p.extensions = &ext;
    p.extension_count = 1;
  }
  return rtp::RtpPacketSize(p, 0);
}

size_t Vp8Packetizer::MaxPayloadPerPacket() const {
  const size_t overhead = HeaderSize() + kVp8PacketizerDescriptorSize;
  return o_.mtu > overhead ? o_.mtu - overhead : 0;
}

Vp8Status Vp8Packetizer::Packetize(const uint8_t* frame, size_t size, uint32_t timestamp,
                                   std::vector<std::vector<uint8_t>>* out) {
  if (frame == nullptr || size == 0) return Vp8Status::kInvalidArgument;
  const size_t cap = MaxPayloadPerPacket();
  const size_t count = (size + cap - 1) / cap;
  // Balanced split: `extra` packets carry one byte more than the others.
  const size_t base = size / count;
  const size_t extra = size % count;

  rtp::ExtensionToWrite ext{static_cast<uint8_t>(o_.mid_extension_id),
                            reinterpret_cast<const uint8_t*>(o_.mid.data()), o_.mid.size()};
  rtp::RtpBuildParams p;
  p.payload_type = o_.payload_type;
  p.timestamp = timestamp;
  p.ssrc = o_.ssrc;
  if (o_.mid_extension_id != 0) {
    p.extensions = &ext;
    p.extension_count = 1;
  }
  Vp8Descriptor d;
  d.has_picture_id = true;
  d.long_picture_id = true;
  d.picture_id = picture_id_;

  const size_t first = out->size();
  std::vector<uint8_t> payload;
  payload.reserve(cap + kVp8PacketizerDescriptorSize);
  size_t offset = 0;
  uint16_t seq = seq_;
  for (size_t i = 0; i < count; ++i) {
    const size_t n = base + (i < extra ? 1 : 0);
    d.start_of_partition = i == 0;
    payload.resize(kVp8PacketizerDescriptorSize);
    size_t written = 0;
    if (WriteVp8Descriptor(d, payload.data(), payload.size(), &written) != Vp8Status::kOk ||
        written != kVp8PacketizerDescriptorSize) {
      out->resize(first);
      return Vp8Status::kInvalidArgument;
    }
    payload.insert(payload.end(), frame + offset, frame + offset + n);
    offset += n;
    p.sequence_number = seq++;
    p.marker = i + 1 == count;
    std::vector<uint8_t> packet(rtp::RtpPacketSize(p, payload.size()));
    size_t packet_size = 0;
    if (rtp::BuildRtp(p, payload.data(), payload.size(), packet.data(), packet.size(), &packet_size) !=
        rtp::RtpStatus::kOk) {
      out->resize(first);
      return Vp8Status::kInvalidArgument;
    }
    packet.resize(packet_size);
    out->push_back(std::move(packet));
  }
  seq_ = seq;
  picture_id_ = static_cast<uint16_t>((picture_id_ + 1) & 0x7FFF);
  ++stats_.frames;
  stats_.packets += count;
  stats_.payload_bytes += size;
  return Vp8Status::kOk;
}

}  // namespace sw::video
