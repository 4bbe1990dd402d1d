// RTCP parsing and building (RFC 3550 section 6; RFC 4585 generic NACK and PLI).
//
// Parses a compound packet into a list of typed packets. Every length field is checked against the bytes
// actually present ("the length field lies" is an error, never an over-read); unknown packet types are
// returned as kUnknown with their header, not rejected. Builders append to a byte vector so callers can
// assemble a compound packet. Pure C++, no napi, thread-agnostic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sw::rtp {

enum RtcpType : uint8_t {
  kRtcpSr = 200,
  kRtcpRr = 201,
  kRtcpSdes = 202,
  kRtcpBye = 203,
  kRtcpApp = 204,
  kRtcpRtpfb = 205,  // transport-layer feedback (FMT 1: generic NACK)
  kRtcpPsfb = 206,   // payload-specific feedback (FMT 1: PLI)
};
inline constexpr uint8_t kFmtNack = 1;
inline constexpr uint8_t kFmtPli = 1;

enum class RtcpStatus : uint8_t {
  kOk = 0,
  kEmpty,            // no bytes
  kTooShort,         // fewer than 4 bytes left for a packet header
  kBadVersion,       // version != 2
  kLengthOverflow,   // length field runs past the end of the buffer
  kBadPadding,       // padding count zero or larger than the packet body
  kBodyTooShort,     // the body is too small for what the header (type, count) declares
  kInvalidArgument,  // build: bad field (count > 31, reason > 255 bytes ...)
};

const char* RtcpStatusMessage(RtcpStatus status);

// RFC 3550 6.4.1 report block.
struct ReportBlock {
  uint32_t ssrc = 0;                  // source this block reports on
  uint8_t fraction_lost = 0;          // fixed point /256 since the previous report
  int32_t cumulative_lost = 0;        // signed 24-bit packets lost since the start
  uint32_t extended_highest_seq = 0;  // cycles << 16 | highest sequence number received
  uint32_t jitter = 0;                // interarrival jitter, RTP timestamp units
  uint32_t last_sr = 0;               // middle 32 bits of the last SR's NTP timestamp
  uint32_t delay_since_last_sr = 0;   // units of 1/65536 s
};

struct RtcpPacket {
  uint8_t type = 0;  // RtcpType or another packet type (kUnknown kinds keep it)
  uint8_t fmt = 0;   // the 5-bit count/FMT field
  // SR/RR/PLI/NACK: sender SSRC. BYE: unused.
  uint32_t sender_ssrc = 0;
  // SR sender info.
  uint32_t ntp_seconds = 0;
  uint32_t ntp_fraction = 0;
  uint32_t rtp_timestamp = 0;
  uint32_t packet_count = 0;
  uint32_t octet_count = 0;
  std::vector<ReportBlock> report_blocks;  // SR, RR
  // PLI/NACK (and other feedback): media source SSRC.
  uint32_t media_ssrc = 0;
  std::vector<uint16_t> nack_sequence_numbers;  // NACK: every lost sequence number, expanded from PID/BLP
  std::vector<uint32_t> bye_ssrcs;              // BYE
  std::string bye_reason;                       // BYE (optional, may be empty)
  uint32_t offset = 0;                          // where this packet starts in the compound buffer
  uint32_t size = 0;                            // its size in bytes (4 * (length + 1))
};

// Parses every packet of a compound RTCP buffer. On error `out` holds the packets parsed before it.
RtcpStatus ParseRtcp(const uint8_t* data, size_t size, std::vector<RtcpPacket>* out);

// Builders: each appends one packet to `out`; returns kInvalidArgument (and appends nothing) for bad input.
RtcpStatus AppendSenderReport(std::vector<uint8_t>* out, uint32_t sender_ssrc, uint32_t ntp_seconds,
                              uint32_t ntp_fraction, uint32_t rtp_timestamp, uint32_t packet_count,
                              uint32_t octet_count, const std::vector<ReportBlock>& blocks);
RtcpStatus AppendReceiverReport(std::vector<uint8_t>* out, uint32_t sender_ssrc,
                                const std::vector<ReportBlock>& blocks);
// Generic NACK: sequence numbers are packed into PID/BLP pairs (any order, duplicates ignored, wrap-aware
// relative to the first PID of each pair).
RtcpStatus AppendNack(std::vector<uint8_t>* out, uint32_t sender_ssrc, uint32_t media_ssrc,
                      const std::vector<uint16_t>& sequence_numbers);
RtcpStatus AppendPli(std::vector<uint8_t>* out, uint32_t sender_ssrc, uint32_t media_ssrc);
RtcpStatus AppendBye(std::vector<uint8_t>* out, const std::vector<uint32_t>& ssrcs,
                     const std::string& reason);

}  // namespace sw::rtp
