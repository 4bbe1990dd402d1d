// Unit tests of native/core/rtp: RTP parse/build, header extensions, unwrappers, malformed input.
#include "core/rtp/rtp_packet.h"

#include <cstring>
#include <vector>

#include "core/rtp/unwrapper.h"
#include "test/test.h"

using namespace sw::rtp;

namespace {

std::vector<uint8_t> Build(const RtpBuildParams& p, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> out(RtpPacketSize(p, payload.size()));
  size_t written = 0;
  RtpStatus s = BuildRtp(p, payload.data(), payload.size(), out.data(), out.size(), &written);
  CHECK(s == RtpStatus::kOk);
  CHECK_EQ(written, out.size());
  return out;
}

}  // namespace

TEST(RtpParsesMinimalHeader) {
  const uint8_t pkt[] = {0x80, 0xEF, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 0x01, 0x02, 0x03, 0x04, 0xAA, 0xBB};
  RtpHeader h;
  CHECK(ParseRtp(pkt, sizeof pkt, &h) == RtpStatus::kOk);
  CHECK(h.marker);
  CHECK_EQ(h.payload_type, 111);
  CHECK_EQ(h.sequence_number, 0x1234);
  CHECK_EQ(h.timestamp, 0xDEADBEEFu);
  CHECK_EQ(h.ssrc, 0x01020304u);
  CHECK_EQ(h.header_size, 12u);
  CHECK_EQ(h.payload_size, 2u);
  CHECK(!h.has_extension);
}

TEST(RtpRoundTripsEveryField) {
  const uint32_t csrcs[] = {7, 8, 9};
  const uint8_t mid[] = {'a', 'u', 'd', 'i', 'o'};
  const uint8_t level[] = {0x85};
  ExtensionToWrite ext[] = {{1, level, 1}, {4, mid, sizeof mid}};
  RtpBuildParams p;
  p.marker = true;
  p.payload_type = 96;
  p.sequence_number = 65535;
  p.timestamp = 0xFFFFFFF0u;
  p.ssrc = 0xCAFEBABEu;
  p.csrcs = csrcs;
  p.csrc_count = 3;
  p.extensions = ext;
  p.extension_count = 2;
  p.padding_size = 7;
  auto pkt = Build(p, {1, 2, 3, 4, 5});
  RtpHeader h;
  CHECK(ParseRtp(pkt.data(), pkt.size(), &h) == RtpStatus::kOk);
  CHECK(h.marker);
  CHECK(h.padding);
  CHECK_EQ(h.payload_type, 96);
  CHECK_EQ(h.sequence_number, 65535);
  CHECK_EQ(h.timestamp, 0xFFFFFFF0u);
  CHECK_EQ(h.ssrc, 0xCAFEBABEu);
  CHECK_EQ(h.csrc_count, 3);
  CHECK_EQ(h.csrcs[2], 9u);
  CHECK_EQ(h.extension_profile, kOneByteExtensionProfile);
  CHECK_EQ(h.extension_count, 2);
  const ExtensionElement* e = FindExtension(h, 4);
  CHECK(e != nullptr);
  CHECK_EQ(e->length, 5);
  CHECK(std::memcmp(pkt.data() + e->offset, "audio", 5) == 0);
  CHECK_EQ(h.payload_size, 5u);
  CHECK_EQ(h.padding_size, 7);
  CHECK_EQ(pkt[h.payload_offset + 4], 5);
  CHECK_EQ(h.header_size % 4, 0u);
}

TEST(RtpUsesTwoByteExtensionsWhenNeeded) {
  std::vector<uint8_t> big(20, 0x42);
  ExtensionToWrite ext[] = {{20, big.data(), big.size()}, {3, nullptr, 0}};
  RtpBuildParams p;
  p.extensions = ext;
  p.extension_count = 2;
  auto pkt = Build(p, {9});
  RtpHeader h;
  CHECK(ParseRtp(pkt.data(), pkt.size(), &h) == RtpStatus::kOk);
  CHECK_EQ(h.extension_profile & 0xFFF0, kTwoByteExtensionProfile);
  CHECK_EQ(h.extension_count, 2);
  CHECK_EQ(h.extensions[0].id, 20);
  CHECK_EQ(h.extensions[0].length, 20);
  CHECK_EQ(h.extensions[1].id, 3);
  CHECK_EQ(h.extensions[1].length, 0);
  CHECK_EQ(h.payload_size, 1u);
}

TEST(RtpRejectsMalformedInput) {
  RtpHeader h;
  const uint8_t short_pkt[] = {0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0};
  CHECK(ParseRtp(short_pkt, sizeof short_pkt, &h) == RtpStatus::kTooShort);
  uint8_t v1[12] = {0x40, 0x60};
  CHECK(ParseRtp(v1, sizeof v1, &h) == RtpStatus::kBadVersion);
  uint8_t csrc[16] = {0x82, 0x60};  // CC=2 needs 20 bytes
  CHECK(ParseRtp(csrc, sizeof csrc, &h) == RtpStatus::kCsrcOverflow);
  uint8_t ext_hdr[14] = {0x90, 0x60};  // X set, no room for the extension header
  CHECK(ParseRtp(ext_hdr, sizeof ext_hdr, &h) == RtpStatus::kExtensionOverflow);
  uint8_t ext_len[20] = {0x90, 0x60};  // extension says 2 words, only 1 present
  ext_len[12] = 0xBE;
  ext_len[13] = 0xDE;
  ext_len[15] = 2;
  CHECK(ParseRtp(ext_len, sizeof ext_len, &h) == RtpStatus::kExtensionOverflow);
  uint8_t elem[20] = {0x90, 0x60};  // one-byte element of length 16 inside a 4-byte block
  elem[12] = 0xBE;
  elem[13] = 0xDE;
  elem[15] = 1;
  elem[16] = 0x1F;
  CHECK(ParseRtp(elem, sizeof elem, &h) == RtpStatus::kBadExtensionElement);
  uint8_t pad[14] = {0xA0, 0x60};  // padding count 9 > 2 bytes after the header
  pad[13] = 9;
  CHECK(ParseRtp(pad, sizeof pad, &h) == RtpStatus::kBadPadding);
  uint8_t pad0[13] = {0xA0, 0x60};  // padding count 0
  CHECK(ParseRtp(pad0, sizeof pad0, &h) == RtpStatus::kBadPadding);
  uint8_t pad_empty[12] = {0xA0, 0x60};  // padding bit, no bytes at all
  CHECK(ParseRtp(pad_empty, sizeof pad_empty, &h) == RtpStatus::kBadPadding);
  CHECK(ParseRtp(nullptr, 0, &h) == RtpStatus::kTooShort);
}

TEST(RtpExtensionId15StopsParsing) {
  uint8_t pkt[20] = {0x90, 0x60};
  pkt[12] = 0xBE;
  pkt[13] = 0xDE;
  pkt[15] = 1;
  pkt[16] = 0x10;  // id 1, 1 byte
  pkt[17] = 0x55;
  pkt[18] = 0xF0;  // id 15: stop
  RtpHeader h;
  CHECK(ParseRtp(pkt, sizeof pkt, &h) == RtpStatus::kOk);
  CHECK_EQ(h.extension_count, 1);
  CHECK_EQ(pkt[h.extensions[0].offset], 0x55);
}

TEST(RtpBuildValidatesArguments) {
  RtpBuildParams p;
  p.payload_type = 128;
  CHECK_EQ(RtpPacketSize(p, 0), 0u);
  p.payload_type = 0;
  p.csrc_count = 16;
  uint32_t c[16] = {};
  p.csrcs = c;
  CHECK_EQ(RtpPacketSize(p, 0), 0u);
  p.csrc_count = 0;
  uint8_t out[8];
  size_t written = 0;
  CHECK(BuildRtp(p, nullptr, 0, out, sizeof out, &written) == RtpStatus::kBufferTooSmall);
  ExtensionToWrite bad[] = {{0, out, 1}};
  p.extensions = bad;
  p.extension_count = 1;
  CHECK_EQ(RtpPacketSize(p, 0), 0u);
}

TEST(RtcpDemuxByPayloadType) {
  const uint8_t rr[] = {0x80, 201, 0, 1, 0, 0, 0, 1};
  const uint8_t rtp[] = {0x80, 111, 0, 1};
  CHECK(LooksLikeRtcp(rr, sizeof rr));
  CHECK(!LooksLikeRtcp(rtp, sizeof rtp));
}

TEST(SequenceUnwrapperHandlesWrapAndReorder) {
  SequenceUnwrapper u;
  CHECK_EQ(u.Unwrap(65534), 65534);
  CHECK_EQ(u.Unwrap(65535), 65535);
  CHECK_EQ(u.Unwrap(0), 65536);
  CHECK_EQ(u.Unwrap(65535), 65535);  // reordered across the wrap
  CHECK_EQ(u.Unwrap(1), 65537);
  CHECK_EQ(u.Unwrap(30000), 30000 + 65536);  // forward jump under half the range
  CHECK_EQ(u.Unwrap(1), 65537);              // and back
  SequenceUnwrapper back;
  CHECK_EQ(back.Unwrap(0), 0);
  CHECK_EQ(back.Unwrap(65535), -1);
}

TEST(TimestampUnwrapperHandlesWrap) {
  TimestampUnwrapper u;
  CHECK_EQ(u.Unwrap(0xFFFFFC40u), int64_t{0xFFFFFC40u});
  CHECK_EQ(u.Unwrap(0x00000000u), int64_t{1} << 32);
  CHECK_EQ(u.Unwrap(0x000003C0u), (int64_t{1} << 32) + 960);
  CHECK_EQ(u.Unwrap(0xFFFFFC40u), int64_t{0xFFFFFC40u});  // late packet from before the wrap
  u.Reset();
  CHECK_EQ(u.Unwrap(5), 5);
}
