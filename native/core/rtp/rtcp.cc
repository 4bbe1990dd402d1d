#include "core/rtp/rtcp.h"

#include <algorithm>

namespace sw::rtp {
namespace {

constexpr size_t kHeaderSize = 4;
constexpr size_t kReportBlockSize = 24;
constexpr size_t kSenderInfoSize = 20;

uint16_t Read16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t Read24(const uint8_t* p) { return (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2]; }
uint32_t Read32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
void Put16(std::vector<uint8_t>* o, uint16_t v) {
  o->push_back(static_cast<uint8_t>(v >> 8));
  o->push_back(static_cast<uint8_t>(v));
}
void Put32(std::vector<uint8_t>* o, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) o->push_back(static_cast<uint8_t>(v >> s));
}
// Header with a placeholder length; FinishPacket fills it once the body is written.
size_t BeginPacket(std::vector<uint8_t>* o, uint8_t count, uint8_t type) {
  const size_t start = o->size();
  o->push_back(static_cast<uint8_t>(0x80 | (count & 0x1F)));
  o->push_back(type);
  Put16(o, 0);
  return start;
}
void FinishPacket(std::vector<uint8_t>* o, size_t start) {
  while ((o->size() - start) % 4 != 0) o->push_back(0);  // only BYE reasons need this
  const size_t words = (o->size() - start) / 4 - 1;
  (*o)[start + 2] = static_cast<uint8_t>(words >> 8);
  (*o)[start + 3] = static_cast<uint8_t>(words);
}

void ParseReportBlocks(const uint8_t* p, size_t count, std::vector<ReportBlock>* out) {
  out->reserve(count);
  for (size_t i = 0; i < count; ++i, p += kReportBlockSize) {
    ReportBlock b;
    b.ssrc = Read32(p);
    b.fraction_lost = p[4];
    uint32_t lost = Read24(p + 5);
    // Sign-extend the 24-bit two's-complement value (RFC 3550 allows negative loss from duplicates).
    b.cumulative_lost =
        (lost & 0x800000) ? static_cast<int32_t>(lost | 0xFF000000u) : static_cast<int32_t>(lost);
    b.extended_highest_seq = Read32(p + 8);
    b.jitter = Read32(p + 12);
    b.last_sr = Read32(p + 16);
    b.delay_since_last_sr = Read32(p + 20);
    out->push_back(b);
  }
}

void PutReportBlock(std::vector<uint8_t>* o, const ReportBlock& b) {
  Put32(o, b.ssrc);
  o->push_back(b.fraction_lost);
  // Clamp to the signed 24-bit range (RFC 3550 6.4.1).
  const int32_t lost = std::clamp(b.cumulative_lost, -0x800000, 0x7FFFFF);
  const uint32_t u = static_cast<uint32_t>(lost) & 0xFFFFFF;
  o->push_back(static_cast<uint8_t>(u >> 16));
  o->push_back(static_cast<uint8_t>(u >> 8));
  o->push_back(static_cast<uint8_t>(u));
  Put32(o, b.extended_highest_seq);
  Put32(o, b.jitter);
  Put32(o, b.last_sr);
  Put32(o, b.delay_since_last_sr);
}

// Parses the body [p, p+n) of one packet whose header said (type, count).
RtcpStatus ParseBody(const uint8_t* p, size_t n, RtcpPacket* pkt) {
  const uint8_t count = pkt->fmt;
  switch (pkt->type) {
    case kRtcpSr: {
      if (n < 4 + kSenderInfoSize + count * kReportBlockSize) return RtcpStatus::kBodyTooShort;
      pkt->sender_ssrc = Read32(p);
      pkt->ntp_seconds = Read32(p + 4);
      pkt->ntp_fraction = Read32(p + 8);
      pkt->rtp_timestamp = Read32(p + 12);
      pkt->packet_count = Read32(p + 16);
      pkt->octet_count = Read32(p + 20);
      ParseReportBlocks(p + 24, count, &pkt->report_blocks);
      return RtcpStatus::kOk;  // profile-specific extensions after the blocks are ignored
    }
    case kRtcpRr: {
      if (n < 4 + count * kReportBlockSize) return RtcpStatus::kBodyTooShort;
      pkt->sender_ssrc = Read32(p);
      ParseReportBlocks(p + 4, count, &pkt->report_blocks);
      return RtcpStatus::kOk;
    }
    case kRtcpBye: {
      if (n < count * size_t{4}) return RtcpStatus::kBodyTooShort;
      for (size_t i = 0; i < count; ++i) pkt->bye_ssrcs.push_back(Read32(p + 4 * i));
      size_t pos = count * size_t{4};
      if (pos < n) {  // optional reason: length byte + text
        const size_t len = p[pos];
        if (pos + 1 + len > n) return RtcpStatus::kBodyTooShort;
        pkt->bye_reason.assign(reinterpret_cast<const char*>(p + pos + 1), len);
      }
      return RtcpStatus::kOk;
    }
    case kRtcpRtpfb:
    case kRtcpPsfb: {
      if (n < 8) return RtcpStatus::kBodyTooShort;
      pkt->sender_ssrc = Read32(p);
      pkt->media_ssrc = Read32(p + 4);
      if (pkt->type == kRtcpRtpfb && count == kFmtNack) {
        // FCI: (PID, BLP) pairs; a trailing partial pair would be a lying length.
        if ((n - 8) % 4 != 0) return RtcpStatus::kBodyTooShort;
        for (size_t pos = 8; pos + 4 <= n; pos += 4) {
          const uint16_t pid = Read16(p + pos);
          const uint16_t blp = Read16(p + pos + 2);
          pkt->nack_sequence_numbers.push_back(pid);
          for (int bit = 0; bit < 16; ++bit) {
            if (blp & (1u << bit)) pkt->nack_sequence_numbers.push_back(static_cast<uint16_t>(pid + bit + 1));
          }
        }
      }
      return RtcpStatus::kOk;
    }
    default:
      return RtcpStatus::kOk;  // SDES, APP, XR, other feedback: header only
  }
}

}  // namespace

const char* RtcpStatusMessage(RtcpStatus status) {
  switch (status) {
    case RtcpStatus::kOk:
      return "ok";
    case RtcpStatus::kEmpty:
      return "empty RTCP packet";
    case RtcpStatus::kTooShort:
      return "fewer than 4 bytes left for an RTCP header";
    case RtcpStatus::kBadVersion:
      return "RTCP version is not 2";
    case RtcpStatus::kLengthOverflow:
      return "RTCP length field runs past the end of the buffer";
    case RtcpStatus::kBadPadding:
      return "RTCP padding length is zero or larger than the packet";
    case RtcpStatus::kBodyTooShort:
      return "RTCP packet body too short for its type and count";
    case RtcpStatus::kInvalidArgument:
      return "invalid RTCP field value";
  }
  return "unknown RTCP status";
}

RtcpStatus ParseRtcp(const uint8_t* data, size_t size, std::vector<RtcpPacket>* out) {
  if (data == nullptr || size == 0) return RtcpStatus::kEmpty;
  size_t pos = 0;
  while (pos < size) {
    if (size - pos < kHeaderSize) return RtcpStatus::kTooShort;
    const uint8_t* h = data + pos;
    if ((h[0] >> 6) != 2) return RtcpStatus::kBadVersion;
    const size_t packet_size = (size_t{Read16(h + 2)} + 1) * 4;
    if (packet_size > size - pos) return RtcpStatus::kLengthOverflow;
    size_t body = packet_size - kHeaderSize;
    if (h[0] & 0x20) {  // padding: the last byte of this packet counts the padding bytes
      const uint8_t pad = h[packet_size - 1];
      if (pad == 0 || pad > body) return RtcpStatus::kBadPadding;
      body -= pad;
    }
    RtcpPacket pkt;
    pkt.type = h[1];
    pkt.fmt = h[0] & 0x1F;
    pkt.offset = static_cast<uint32_t>(pos);
    pkt.size = static_cast<uint32_t>(packet_size);
    RtcpStatus s = ParseBody(h + kHeaderSize, body, &pkt);
    if (s != RtcpStatus::kOk) return s;
    out->push_back(std::move(pkt));
    pos += packet_size;
  }
  return RtcpStatus::kOk;
}

RtcpStatus AppendSenderReport(std::vector<uint8_t>* out, uint32_t sender_ssrc, uint32_t ntp_seconds,
                              uint32_t ntp_fraction, uint32_t rtp_timestamp, uint32_t packet_count,
                              uint32_t octet_count, const std::vector<ReportBlock>& blocks) {
  if (blocks.size() > 31) return RtcpStatus::kInvalidArgument;
  const size_t start = BeginPacket(out, static_cast<uint8_t>(blocks.size()), kRtcpSr);
  Put32(out, sender_ssrc);
  Put32(out, ntp_seconds);
  Put32(out, ntp_fraction);
  Put32(out, rtp_timestamp);
  Put32(out, packet_count);
  Put32(out, octet_count);
  for (const auto& b : blocks) PutReportBlock(out, b);
  FinishPacket(out, start);
  return RtcpStatus::kOk;
}

RtcpStatus AppendReceiverReport(std::vector<uint8_t>* out, uint32_t sender_ssrc,
                                const std::vector<ReportBlock>& blocks) {
  if (blocks.size() > 31) return RtcpStatus::kInvalidArgument;
  const size_t start = BeginPacket(out, static_cast<uint8_t>(blocks.size()), kRtcpRr);
  Put32(out, sender_ssrc);
  for (const auto& b : blocks) PutReportBlock(out, b);
  FinishPacket(out, start);
  return RtcpStatus::kOk;
}

RtcpStatus AppendNack(std::vector<uint8_t>* out, uint32_t sender_ssrc, uint32_t media_ssrc,
                      const std::vector<uint16_t>& sequence_numbers) {
  if (sequence_numbers.empty() || sequence_numbers.size() > 0x7FFF) return RtcpStatus::kInvalidArgument;
  // Order by distance from the first sequence number so wrapped lists (65534, 65535, 0) stay together.
  std::vector<uint16_t> seqs(sequence_numbers);
  const uint16_t base = seqs.front();
  std::sort(seqs.begin(), seqs.end(), [base](uint16_t a, uint16_t b) {
    return static_cast<uint16_t>(a - base) < static_cast<uint16_t>(b - base);
  });
  seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
  const size_t start = BeginPacket(out, kFmtNack, kRtcpRtpfb);
  Put32(out, sender_ssrc);
  Put32(out, media_ssrc);
  size_t i = 0;
  while (i < seqs.size()) {
    const uint16_t pid = seqs[i++];
    uint16_t blp = 0;
    while (i < seqs.size()) {
      const uint16_t d = static_cast<uint16_t>(seqs[i] - pid);
      if (d < 1 || d > 16) break;
      blp = static_cast<uint16_t>(blp | (1u << (d - 1)));
      ++i;
    }
    Put16(out, pid);
    Put16(out, blp);
  }
  FinishPacket(out, start);
  return RtcpStatus::kOk;
}

RtcpStatus AppendPli(std::vector<uint8_t>* out, uint32_t sender_ssrc, uint32_t media_ssrc) {
  const size_t start = BeginPacket(out, kFmtPli, kRtcpPsfb);
  Put32(out, sender_ssrc);
  Put32(out, media_ssrc);
  FinishPacket(out, start);
  return RtcpStatus::kOk;
}

RtcpStatus AppendBye(std::vector<uint8_t>* out, const std::vector<uint32_t>& ssrcs,
                     const std::string& reason) {
  if (ssrcs.size() > 31 || reason.size() > 255) return RtcpStatus::kInvalidArgument;
  const size_t start = BeginPacket(out, static_cast<uint8_t>(ssrcs.size()), kRtcpBye);
  for (uint32_t s : ssrcs) Put32(out, s);
  if (!reason.empty()) {
    out->push_back(static_cast<uint8_t>(reason.size()));
    out->insert(out->end(), reason.begin(), reason.end());
  }
  FinishPacket(out, start);
  return RtcpStatus::kOk;
}

}  // namespace sw::rtp
