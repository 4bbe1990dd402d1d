// Unit tests of native/core/rtp/rtcp: SR, RR, NACK, PLI, BYE, compound packets, malformed input.
#include "core/rtp/rtcp.h"

#include <vector>

#include "test/test.h"

using namespace sw::rtp;

TEST(RtcpCompoundRoundTrip) {
  std::vector<uint8_t> buf;
  ReportBlock b;
  b.ssrc = 0x11111111;
  b.fraction_lost = 64;
  b.cumulative_lost = -3;
  b.extended_highest_seq = 0x00010005;
  b.jitter = 123;
  b.last_sr = 0xAABBCCDD;
  b.delay_since_last_sr = 65536;
  CHECK(AppendSenderReport(&buf, 0x2222, 3900000000u, 0x80000000u, 48000, 10, 1600, {b}) == RtcpStatus::kOk);
  CHECK(AppendReceiverReport(&buf, 0x3333, {b, b}) == RtcpStatus::kOk);
  CHECK(AppendNack(&buf, 0x4444, 0x5555, {65535, 3, 0, 1, 20, 3}) == RtcpStatus::kOk);
  CHECK(AppendPli(&buf, 0x6666, 0x7777) == RtcpStatus::kOk);
  CHECK(AppendBye(&buf, {0x8888, 0x9999}, "bye now") == RtcpStatus::kOk);
  std::vector<RtcpPacket> pkts;
  CHECK(ParseRtcp(buf.data(), buf.size(), &pkts) == RtcpStatus::kOk);
  CHECK_EQ(pkts.size(), 5u);
  if (pkts.size() != 5) return;
  CHECK_EQ(pkts[0].type, kRtcpSr);
  CHECK_EQ(pkts[0].sender_ssrc, 0x2222u);
  CHECK_EQ(pkts[0].ntp_seconds, 3900000000u);
  CHECK_EQ(pkts[0].rtp_timestamp, 48000u);
  CHECK_EQ(pkts[0].octet_count, 1600u);
  CHECK_EQ(pkts[0].report_blocks.size(), 1u);
  CHECK_EQ(pkts[0].report_blocks[0].cumulative_lost, -3);
  CHECK_EQ(pkts[0].report_blocks[0].fraction_lost, 64);
  CHECK_EQ(pkts[0].report_blocks[0].extended_highest_seq, 0x00010005u);
  CHECK_EQ(pkts[0].report_blocks[0].delay_since_last_sr, 65536u);
  CHECK_EQ(pkts[1].type, kRtcpRr);
  CHECK_EQ(pkts[1].report_blocks.size(), 2u);
  CHECK_EQ(pkts[2].type, kRtcpRtpfb);
  CHECK_EQ(pkts[2].media_ssrc, 0x5555u);
  const std::vector<uint16_t> want = {65535, 0, 1, 3, 20};
  CHECK(pkts[2].nack_sequence_numbers == want);
  CHECK_EQ(pkts[3].type, kRtcpPsfb);
  CHECK_EQ(pkts[3].fmt, kFmtPli);
  CHECK_EQ(pkts[3].media_ssrc, 0x7777u);
  CHECK_EQ(pkts[4].type, kRtcpBye);
  CHECK_EQ(pkts[4].bye_ssrcs.size(), 2u);
  CHECK(pkts[4].bye_reason == "bye now");
  CHECK_EQ(pkts[4].offset + pkts[4].size, buf.size());
}

TEST(RtcpRejectsMalformed) {
  std::vector<RtcpPacket> pkts;
  CHECK(ParseRtcp(nullptr, 0, &pkts) == RtcpStatus::kEmpty);
  const uint8_t three[] = {0x80, 201, 0};
  CHECK(ParseRtcp(three, sizeof three, &pkts) == RtcpStatus::kTooShort);
  const uint8_t v1[] = {0x40, 201, 0, 1, 0, 0, 0, 1};
  CHECK(ParseRtcp(v1, sizeof v1, &pkts) == RtcpStatus::kBadVersion);
  const uint8_t lies[] = {0x80, 201, 0, 5, 0, 0, 0, 1};  // says 24 bytes, has 8
  CHECK(ParseRtcp(lies, sizeof lies, &pkts) == RtcpStatus::kLengthOverflow);
  const uint8_t rr_count[] = {0x81, 201, 0, 1, 0, 0, 0, 1};  // 1 report block declared, none present
  CHECK(ParseRtcp(rr_count, sizeof rr_count, &pkts) == RtcpStatus::kBodyTooShort);
  const uint8_t pad[] = {0xA0, 201, 0, 1, 0, 0, 0, 9};  // padding 9 > body 4
  CHECK(ParseRtcp(pad, sizeof pad, &pkts) == RtcpStatus::kBadPadding);
  const uint8_t sr_short[] = {0x80, 200, 0, 1, 0, 0, 0, 1};
  CHECK(ParseRtcp(sr_short, sizeof sr_short, &pkts) == RtcpStatus::kBodyTooShort);
  const uint8_t bye_reason[] = {0x81, 203, 0, 2, 0, 0, 0, 1, 10, 'a', 'b', 'c'};  // reason says 10 bytes
  CHECK(ParseRtcp(bye_reason, sizeof bye_reason, &pkts) == RtcpStatus::kBodyTooShort);
  const uint8_t trailing[] = {0x80, 201, 0, 1, 0, 0, 0, 1, 0x80, 201};  // second header truncated
  pkts.clear();
  CHECK(ParseRtcp(trailing, sizeof trailing, &pkts) == RtcpStatus::kTooShort);
  CHECK_EQ(pkts.size(), 1u);
}

TEST(RtcpUnknownTypesPassThrough) {
  const uint8_t sdes[] = {0x81, 202, 0, 2, 0, 0, 0, 1, 1, 2, 'a', 'b'};
  std::vector<RtcpPacket> pkts;
  CHECK(ParseRtcp(sdes, sizeof sdes, &pkts) == RtcpStatus::kOk);
  CHECK_EQ(pkts.size(), 1u);
  CHECK_EQ(pkts[0].type, kRtcpSdes);
}

TEST(RtcpBuildRejectsBadArguments) {
  std::vector<uint8_t> buf;
  CHECK(AppendNack(&buf, 1, 2, {}) == RtcpStatus::kInvalidArgument);
  CHECK(AppendBye(&buf, std::vector<uint32_t>(32, 1), "") == RtcpStatus::kInvalidArgument);
  CHECK(AppendBye(&buf, {1}, std::string(256, 'x')) == RtcpStatus::kInvalidArgument);
  CHECK(AppendReceiverReport(&buf, 1, std::vector<ReportBlock>(32)) == RtcpStatus::kInvalidArgument);
  CHECK(buf.empty());
}
