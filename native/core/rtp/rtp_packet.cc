#include "core/rtp/rtp_packet.h"

#include <cstring>

namespace sw::rtp {
namespace {

uint16_t Read16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t Read32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
void Write16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void Write32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// Parses the RFC 8285 elements of the extension block [begin, begin+length) of `data`.
RtpStatus ParseElements(const uint8_t* data, RtpHeader* h) {
  const bool one_byte = h->extension_profile == kOneByteExtensionProfile;
  const bool two_byte = (h->extension_profile & 0xFFF0) == kTwoByteExtensionProfile;
  if (!one_byte && !two_byte) return RtpStatus::kOk;  // unknown profile: keep the raw block only
  size_t pos = h->extension_offset;
  const size_t end = size_t{h->extension_offset} + h->extension_length;
  while (pos < end) {
    const uint8_t first = data[pos];
    if (first == 0) {  // padding byte between/after elements
      ++pos;
      continue;
    }
    uint8_t id;
    size_t len;
    size_t data_pos;
    if (one_byte) {
      id = first >> 4;
      len = (first & 0x0F) + 1u;
      if (id == 15) break;  // RFC 8285 4.2: reserved id, stop parsing the block (not an error)
      data_pos = pos + 1;
    } else {
      if (pos + 2 > end) return RtpStatus::kBadExtensionElement;
      id = first;
      len = data[pos + 1];
      data_pos = pos + 2;
    }
    if (data_pos + len > end) return RtpStatus::kBadExtensionElement;
    if (h->extension_count >= kMaxExtensions) return RtpStatus::kTooManyExtensions;
    h->extensions[h->extension_count++] =
        ExtensionElement{id, static_cast<uint8_t>(len), static_cast<uint32_t>(data_pos)};
    pos = data_pos + len;
  }
  return RtpStatus::kOk;
}

bool OneByteForm(const RtpBuildParams& p) {
  for (size_t i = 0; i < p.extension_count; ++i) {
    const auto& e = p.extensions[i];
    if (e.id < 1 || e.id > 14 || e.length < 1 || e.length > 16) return false;
  }
  return true;
}

// Bytes of extension data (after the 4-byte extension header), padded to 4; 0 if none.
size_t ExtensionDataSize(const RtpBuildParams& p, bool one_byte) {
  size_t n = 0;
  for (size_t i = 0; i < p.extension_count; ++i) n += (one_byte ? 1 : 2) + p.extensions[i].length;
  return (n + 3) & ~size_t{3};
}

bool ValidParams(const RtpBuildParams& p) {
  if (p.payload_type > 127 || p.csrc_count > kMaxCsrcs || p.padding_size > 255) return false;
  if (p.csrc_count > 0 && p.csrcs == nullptr) return false;
  if (p.extension_count > 0 && p.extensions == nullptr) return false;
  for (size_t i = 0; i < p.extension_count; ++i) {
    const auto& e = p.extensions[i];
    if (e.id == 0 || e.length > 255 || (e.length > 0 && e.data == nullptr)) return false;
  }
  return true;
}

}  // namespace

const char* RtpStatusMessage(RtpStatus status) {
  switch (status) {
    case RtpStatus::kOk:
      return "ok";
    case RtpStatus::kTooShort:
      return "packet shorter than the 12-byte RTP header";
    case RtpStatus::kBadVersion:
      return "RTP version is not 2";
    case RtpStatus::kCsrcOverflow:
      return "CSRC count runs past the end of the packet";
    case RtpStatus::kExtensionOverflow:
      return "header extension length runs past the end of the packet";
    case RtpStatus::kBadPadding:
      return "padding length is zero or larger than the payload";
    case RtpStatus::kBadExtensionElement:
      return "a header extension element runs past the extension block";
    case RtpStatus::kTooManyExtensions:
      return "too many header extension elements";
    case RtpStatus::kInvalidArgument:
      return "invalid RTP field value";
    case RtpStatus::kBufferTooSmall:
      return "output buffer too small";
  }
  return "unknown RTP status";
}

RtpStatus ParseRtp(const uint8_t* data, size_t size, RtpHeader* h) {
  if (data == nullptr || size < kRtpFixedHeaderSize) return RtpStatus::kTooShort;
  if ((data[0] >> 6) != 2) return RtpStatus::kBadVersion;
  *h = RtpHeader{};
  h->padding = (data[0] & 0x20) != 0;
  h->has_extension = (data[0] & 0x10) != 0;
  h->csrc_count = data[0] & 0x0F;
  h->marker = (data[1] & 0x80) != 0;
  h->payload_type = data[1] & 0x7F;
  h->sequence_number = Read16(data + 2);
  h->timestamp = Read32(data + 4);
  h->ssrc = Read32(data + 8);
  size_t pos = kRtpFixedHeaderSize;
  if (pos + size_t{h->csrc_count} * 4 > size) return RtpStatus::kCsrcOverflow;
  for (size_t i = 0; i < h->csrc_count; ++i, pos += 4) h->csrcs[i] = Read32(data + pos);
  if (h->has_extension) {
    if (pos + 4 > size) return RtpStatus::kExtensionOverflow;
    h->extension_profile = Read16(data + pos);
    const size_t ext_len = size_t{Read16(data + pos + 2)} * 4;
    pos += 4;
    if (pos + ext_len > size) return RtpStatus::kExtensionOverflow;
    h->extension_offset = static_cast<uint32_t>(pos);
    h->extension_length = static_cast<uint32_t>(ext_len);
    pos += ext_len;
    RtpStatus s = ParseElements(data, h);
    if (s != RtpStatus::kOk) return s;
  }
  h->header_size = static_cast<uint32_t>(pos);
  h->payload_offset = static_cast<uint32_t>(pos);
  size_t payload = size - pos;
  if (h->padding) {
    if (payload == 0) return RtpStatus::kBadPadding;
    const uint8_t pad = data[size - 1];
    if (pad == 0 || pad > payload) return RtpStatus::kBadPadding;
    h->padding_size = pad;
    payload -= pad;
  }
  h->payload_size = static_cast<uint32_t>(payload);
  return RtpStatus::kOk;
}

const ExtensionElement* FindExtension(const RtpHeader& header, uint8_t id) {
  for (size_t i = 0; i < header.extension_count; ++i) {
    if (header.extensions[i].id == id) return &header.extensions[i];
  }
  return nullptr;
}

size_t RtpPacketSize(const RtpBuildParams& p, size_t payload_size) {
  if (!ValidParams(p)) return 0;
  size_t n = kRtpFixedHeaderSize + p.csrc_count * 4;
  if (p.extension_count > 0) {
    const size_t ext = ExtensionDataSize(p, OneByteForm(p));
    if (ext / 4 > 0xFFFF) return 0;
    n += 4 + ext;
  }
  return n + payload_size + p.padding_size;
}

RtpStatus BuildRtp(const RtpBuildParams& p, const uint8_t* payload, size_t payload_size, uint8_t* out,
                   size_t capacity, size_t* written) {
  *written = 0;
  const size_t total = RtpPacketSize(p, payload_size);
  if (total == 0 || (payload_size > 0 && payload == nullptr)) return RtpStatus::kInvalidArgument;
  if (total > capacity || out == nullptr) return RtpStatus::kBufferTooSmall;
  const bool has_ext = p.extension_count > 0;
  out[0] = static_cast<uint8_t>(0x80 | (p.padding_size > 0 ? 0x20 : 0) | (has_ext ? 0x10 : 0) |
                                static_cast<uint8_t>(p.csrc_count));
  out[1] = static_cast<uint8_t>((p.marker ? 0x80 : 0) | p.payload_type);
  Write16(out + 2, p.sequence_number);
  Write32(out + 4, p.timestamp);
  Write32(out + 8, p.ssrc);
  size_t pos = kRtpFixedHeaderSize;
  for (size_t i = 0; i < p.csrc_count; ++i, pos += 4) Write32(out + pos, p.csrcs[i]);
  if (has_ext) {
    const bool one_byte = OneByteForm(p);
    const size_t ext = ExtensionDataSize(p, one_byte);
    Write16(out + pos, one_byte ? kOneByteExtensionProfile : kTwoByteExtensionProfile);
    Write16(out + pos + 2, static_cast<uint16_t>(ext / 4));
    pos += 4;
    const size_t ext_end = pos + ext;
    for (size_t i = 0; i < p.extension_count; ++i) {
      const auto& e = p.extensions[i];
      if (one_byte) {
        out[pos++] = static_cast<uint8_t>((e.id << 4) | (e.length - 1));
      } else {
        out[pos++] = e.id;
        out[pos++] = static_cast<uint8_t>(e.length);
      }
      if (e.length > 0) std::memcpy(out + pos, e.data, e.length);
      pos += e.length;
    }
    while (pos < ext_end) out[pos++] = 0;
  }
  if (payload_size > 0) std::memcpy(out + pos, payload, payload_size);
  pos += payload_size;
  if (p.padding_size > 0) {
    std::memset(out + pos, 0, p.padding_size - 1);
    pos += p.padding_size;
    out[pos - 1] = static_cast<uint8_t>(p.padding_size);
  }
  *written = pos;
  return RtpStatus::kOk;
}

}  // namespace sw::rtp
