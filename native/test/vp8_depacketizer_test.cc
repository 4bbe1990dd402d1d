// Unit tests of native/core/video: the VP8 payload descriptor, the packetizer, the depacketizer (in order,
// reordered, lost, duplicated, corrupted) and its loss signalling (NACK, PLI), and the sender's handling
// of PLI/FIR/REMB.
#include "core/video/vp8_depacketizer.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "core/rtp/rtcp.h"
#include "core/rtp/rtp_packet.h"
#include "core/video/loss_controller.h"
#include "core/video/video_sender_feedback.h"
#include "core/video/vp8_packetizer.h"
#include "core/video/vp8_payload.h"
#include "test/test.h"

using namespace sw::video;
using Packets = std::vector<std::vector<uint8_t>>;

namespace {

// A synthetic VP8 frame: a valid frame tag (and keyframe header), then `size` bytes of a pattern that
// identifies the frame, so the tests can check that the reassembled bytes are exactly the sent ones.
std::vector<uint8_t> FakeFrame(bool keyframe, size_t size, uint8_t id) {
  std::vector<uint8_t> f;
  const uint32_t tag = (keyframe ? 0u : 1u) | (1u << 4) | (100u << 5);
  f.push_back(static_cast<uint8_t>(tag));
  f.push_back(static_cast<uint8_t>(tag >> 8));
  f.push_back(static_cast<uint8_t>(tag >> 16));
  if (keyframe) {
    const uint8_t kf[] = {0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01};  // 640 x 480
    f.insert(f.end(), kf, kf + sizeof kf);
  }
  for (size_t i = 0; f.size() < size; ++i) f.push_back(static_cast<uint8_t>(id * 31 + i));
  return f;
}

struct Sent {
  std::vector<uint8_t> frame;
  Packets packets;
};

// Frames 0..n-1; frame i is a keyframe when i % gop == 0; each spans several 300-byte packets.
std::vector<Sent> MakeStream(int n, int gop, uint16_t first_seq = 65530) {
  Vp8PacketizerOptions o;
  o.ssrc = 0xABCD;
  o.payload_type = 96;
  o.initial_sequence = first_seq;
  o.initial_picture_id = 32766;  // wraps during the stream
  o.mtu = 300;
  Vp8Packetizer pk(o);
  std::vector<Sent> out;
  for (int i = 0; i < n; ++i) {
    Sent s;
    s.frame = FakeFrame(i % gop == 0, 700 + 150 * static_cast<size_t>(i % 3), static_cast<uint8_t>(i));
    CHECK(pk.Packetize(s.frame.data(), s.frame.size(), 3000u * static_cast<uint32_t>(i), &s.packets) ==
          Vp8Status::kOk);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<Vp8Frame> Drain(Vp8Depacketizer* d) {
  std::vector<Vp8Frame> frames;
  Vp8Frame f;
  while (d->PopFrame(&f)) frames.push_back(f);
  return frames;
}

Vp8DepacketizerOptions Opts(bool nack = true) {
  Vp8DepacketizerOptions o;
  o.payload_type = 96;
  o.max_wait_ms = 100;
  o.loss.nack = nack;
  return o;
}

}  // namespace

TEST(Vp8DescriptorRoundTripsEveryField) {
  Vp8Descriptor d;
  d.non_reference = true;
  d.start_of_partition = true;
  d.partition_index = 5;
  d.has_picture_id = true;
  d.long_picture_id = true;
  d.picture_id = 0x7ABC;
  d.has_tl0_pic_idx = true;
  d.tl0_pic_idx = 200;
  d.has_tid = true;
  d.tid = 2;
  d.layer_sync = true;
  d.has_key_idx = true;
  d.key_idx = 17;
  uint8_t buf[16];
  size_t n = 0;
  CHECK(WriteVp8Descriptor(d, buf, sizeof buf, &n) == Vp8Status::kOk);
  CHECK_EQ(n, 6u);
  buf[n] = 0xAA;  // one byte of VP8 data
  Vp8Descriptor p;
  CHECK(ParseVp8Descriptor(buf, n + 1, &p) == Vp8Status::kOk);
  CHECK(p.non_reference && p.start_of_partition && p.long_picture_id && p.layer_sync);
  CHECK_EQ(p.partition_index, 5);
  CHECK_EQ(p.picture_id, 0x7ABC);
  CHECK_EQ(p.tl0_pic_idx, 200);
  CHECK_EQ(p.tid, 2);
  CHECK_EQ(p.key_idx, 17);
  CHECK_EQ(p.size, 6u);

  // 7-bit picture ID, K without T (they share one byte).
  Vp8Descriptor s;
  s.has_picture_id = true;
  s.picture_id = 0x55;
  s.has_key_idx = true;
  s.key_idx = 3;
  CHECK(WriteVp8Descriptor(s, buf, sizeof buf, &n) == Vp8Status::kOk);
  CHECK_EQ(n, 4u);
  CHECK(ParseVp8Descriptor(buf, n + 1, &p) == Vp8Status::kOk);
  CHECK(!p.long_picture_id && !p.has_tid && p.has_key_idx);
  CHECK_EQ(p.picture_id, 0x55);
  CHECK_EQ(p.key_idx, 3);

  // Out of range fields are refused by the writer.
  s.picture_id = 0x80;
  CHECK(WriteVp8Descriptor(s, buf, sizeof buf, &n) == Vp8Status::kInvalidArgument);
  s.long_picture_id = true;
  CHECK(WriteVp8Descriptor(s, buf, 2, &n) == Vp8Status::kBufferTooSmall);
}

TEST(Vp8DescriptorRejectsTruncation) {
  Vp8Descriptor p;
  CHECK(ParseVp8Descriptor(nullptr, 0, &p) == Vp8Status::kEmptyPayload);
  const uint8_t only_x[] = {0x90};
  CHECK(ParseVp8Descriptor(only_x, 1, &p) == Vp8Status::kTruncatedDescriptor);
  const uint8_t i_missing[] = {0x90, 0x80};
  CHECK(ParseVp8Descriptor(i_missing, 2, &p) == Vp8Status::kTruncatedDescriptor);
  const uint8_t m_missing[] = {0x90, 0x80, 0x81};
  CHECK(ParseVp8Descriptor(m_missing, 3, &p) == Vp8Status::kTruncatedDescriptor);
  const uint8_t l_missing[] = {0x90, 0x40};
  CHECK(ParseVp8Descriptor(l_missing, 2, &p) == Vp8Status::kTruncatedDescriptor);
  const uint8_t tk_missing[] = {0x90, 0xF0, 0x81, 0x02, 0x07};
  CHECK(ParseVp8Descriptor(tk_missing, 5, &p) == Vp8Status::kTruncatedDescriptor);
  const uint8_t no_data[] = {0x90, 0x80, 0x05};
  CHECK(ParseVp8Descriptor(no_data, 3, &p) == Vp8Status::kNoVp8Data);
  const uint8_t plain[] = {0x10};
  CHECK(ParseVp8Descriptor(plain, 1, &p) == Vp8Status::kNoVp8Data);
}

TEST(Vp8FrameHeaderDetectsKeyframes) {
  Vp8FrameHeader h;
  auto kf = FakeFrame(true, 20, 1);
  CHECK(ParseVp8FrameHeader(kf.data(), kf.size(), &h) == Vp8Status::kOk);
  CHECK(h.keyframe && h.show_frame);
  CHECK_EQ(h.width, 640);
  CHECK_EQ(h.height, 480);
  CHECK_EQ(h.first_partition_size, 100u);
  auto delta = FakeFrame(false, 20, 1);
  CHECK(ParseVp8FrameHeader(delta.data(), delta.size(), &h) == Vp8Status::kOk);
  CHECK(!h.keyframe);
  CHECK(ParseVp8FrameHeader(kf.data(), 2, &h) == Vp8Status::kTruncatedFrameHeader);
  CHECK(ParseVp8FrameHeader(kf.data(), 9, &h) == Vp8Status::kTruncatedFrameHeader);
  kf[4] = 0x02;
  CHECK(ParseVp8FrameHeader(kf.data(), kf.size(), &h) == Vp8Status::kBadKeyframeStartCode);
  kf[4] = 0x01;
  kf[6] = kf[7] = 0;
  CHECK(ParseVp8FrameHeader(kf.data(), kf.size(), &h) == Vp8Status::kBadKeyframeSize);
}

TEST(Vp8PacketizerFitsMtuAndMarksFrames) {
  Vp8PacketizerOptions o;
  o.ssrc = 7;
  o.payload_type = 100;
  o.initial_picture_id = 32767;
  o.mid_extension_id = 4;
  o.mid = "video-mid";
  Vp8Packetizer pk(o);
  const size_t cap = pk.MaxPayloadPerPacket();
  CHECK(cap > 1100 && cap < 1200);
  for (size_t size : {size_t{1}, cap - 1, cap, cap + 1, size_t{50000}}) {
    auto frame = FakeFrame(false, std::max<size_t>(size, 3), 9);
    frame.resize(size);
    Packets packets;
    const uint16_t pic = pk.picture_id();
    CHECK(pk.Packetize(frame.data(), frame.size(), 1234, &packets) == Vp8Status::kOk);
    CHECK_EQ(packets.size(), (size + cap - 1) / cap);
    std::vector<uint8_t> joined;
    size_t smallest = SIZE_MAX, largest = 0;
    for (size_t i = 0; i < packets.size(); ++i) {
      CHECK(packets[i].size() <= kDefaultVideoMtu);
      sw::rtp::RtpHeader h;
      CHECK(sw::rtp::ParseRtp(packets[i].data(), packets[i].size(), &h) == sw::rtp::RtpStatus::kOk);
      CHECK_EQ(h.marker, i + 1 == packets.size());
      CHECK_EQ(h.payload_type, 100);
      CHECK_EQ(h.timestamp, 1234u);
      CHECK(sw::rtp::FindExtension(h, 4) != nullptr);
      Vp8Descriptor d;
      CHECK(ParseVp8Descriptor(packets[i].data() + h.payload_offset, h.payload_size, &d) == Vp8Status::kOk);
      CHECK_EQ(d.IsFrameStart(), i == 0);
      CHECK_EQ(d.picture_id, pic);
      const uint8_t* vp8 = packets[i].data() + h.payload_offset + d.size;
      const size_t n = h.payload_size - d.size;
      smallest = std::min(smallest, n);
      largest = std::max(largest, n);
      joined.insert(joined.end(), vp8, vp8 + n);
    }
    CHECK(joined == frame);
    CHECK(largest - smallest <= 1);
    CHECK_EQ(pk.picture_id(), static_cast<uint16_t>((pic + 1) & 0x7FFF));
  }
  Packets none;
  CHECK(pk.Packetize(nullptr, 0, 0, &none) == Vp8Status::kInvalidArgument);
  CHECK(none.empty());
}

TEST(Vp8DepacketizerInOrder) {
  auto stream = MakeStream(10, 5);
  Vp8Depacketizer d(Opts());
  std::vector<Vp8Frame> frames;
  int64_t t = 0;
  for (const Sent& s : stream) {
    for (const auto& p : s.packets) CHECK(d.Push(p.data(), p.size(), t) == Vp8Status::kOk);
    for (auto& f : Drain(&d)) frames.push_back(f);
    t += 33;
  }
  CHECK_EQ(frames.size(), 10u);
  for (size_t i = 0; i < frames.size() && i < stream.size(); ++i) {
    CHECK(frames[i].data == stream[i].frame);
    CHECK_EQ(frames[i].keyframe, i % 5 == 0);
    CHECK_EQ(frames[i].timestamp, 3000u * i);
    CHECK_EQ(frames[i].packets, stream[i].packets.size());
    CHECK_EQ(frames[i].picture_id, static_cast<int32_t>((32766 + i) & 0x7FFF));
  }
  CHECK_EQ(frames[0].width, 640);
  CHECK_EQ(frames[0].height, 480);
  const auto st = d.stats();
  CHECK_EQ(st.frames, 10u);
  CHECK_EQ(st.keyframes, 2u);
  CHECK_EQ(st.buffered_packets, 0u);
  CHECK(!st.waiting_for_keyframe);
  std::vector<uint8_t> rtcp;
  CHECK(!d.BuildFeedback(t, 1, &rtcp));  // nothing lost: no NACK, no PLI
}

TEST(Vp8DepacketizerReorderedAndDuplicated) {
  auto stream = MakeStream(12, 6);
  std::vector<std::vector<uint8_t>> all;
  for (const Sent& s : stream) all.insert(all.end(), s.packets.begin(), s.packets.end());
  // Shuffle within windows of 7 packets (reordering across frame boundaries) and send every 3rd twice.
  std::mt19937 rng(42);
  for (size_t i = 0; i < all.size(); i += 7) {
    std::shuffle(all.begin() + static_cast<long>(i),
                 all.begin() + static_cast<long>(std::min(all.size(), i + 7)), rng);
  }
  Vp8Depacketizer d(Opts());
  std::vector<Vp8Frame> frames;
  for (size_t i = 0; i < all.size(); ++i) {
    CHECK(d.Push(all[i].data(), all[i].size(), static_cast<int64_t>(i)) == Vp8Status::kOk);
    if (i % 3 == 0) CHECK(d.Push(all[i].data(), all[i].size(), static_cast<int64_t>(i)) == Vp8Status::kOk);
    for (auto& f : Drain(&d)) frames.push_back(f);
  }
  CHECK_EQ(frames.size(), 12u);
  for (size_t i = 0; i < frames.size() && i < stream.size(); ++i) CHECK(frames[i].data == stream[i].frame);
  const auto st = d.stats();
  CHECK(st.duplicates + st.late >= all.size() / 3);
  CHECK_EQ(st.gaps_lost, 0u);
  CHECK_EQ(st.loss.plis, 0u);
}

TEST(Vp8DepacketizerLossNacksThenRecovers) {
  auto stream = MakeStream(6, 100);
  Vp8Depacketizer d(Opts());
  // Frame 2 loses its second packet; it arrives 30 ms later (a retransmission answering the NACK).
  std::vector<Vp8Frame> frames;
  for (int i = 0; i < 4; ++i) {
    for (size_t j = 0; j < stream[i].packets.size(); ++j) {
      if (i == 2 && j == 1) continue;
      const auto& p = stream[i].packets[j];
      d.Push(p.data(), p.size(), 10 * i);
    }
  }
  for (auto& f : Drain(&d)) frames.push_back(f);
  CHECK_EQ(frames.size(), 2u);  // frames 2 and 3 wait behind the hole
  std::vector<uint8_t> rtcp;
  CHECK(d.BuildFeedback(31, 0x1111, &rtcp));
  std::vector<sw::rtp::RtcpPacket> fb;
  CHECK(sw::rtp::ParseRtcp(rtcp.data(), rtcp.size(), &fb) == sw::rtp::RtcpStatus::kOk);
  CHECK_EQ(fb.size(), 1u);
  if (fb.size() == 1) {
    CHECK_EQ(fb[0].type, sw::rtp::kRtcpRtpfb);
    CHECK_EQ(fb[0].media_ssrc, 0xABCDu);
    sw::rtp::RtpHeader h;
    sw::rtp::ParseRtp(stream[2].packets[1].data(), stream[2].packets[1].size(), &h);
    CHECK_EQ(fb[0].nack_sequence_numbers.size(), 1u);
    if (!fb[0].nack_sequence_numbers.empty()) CHECK_EQ(fb[0].nack_sequence_numbers[0], h.sequence_number);
  }
  rtcp.clear();
  CHECK(!d.BuildFeedback(40, 0x1111, &rtcp));  // not again before nack_interval_ms
  const auto& late = stream[2].packets[1];
  CHECK(d.Push(late.data(), late.size(), 60) == Vp8Status::kOk);
  for (auto& f : Drain(&d)) frames.push_back(f);
  CHECK_EQ(frames.size(), 4u);
  for (size_t i = 0; i < frames.size(); ++i) CHECK(frames[i].data == stream[i].frame);
  CHECK_EQ(d.stats().loss.recovered, 1u);
  CHECK_EQ(d.stats().loss.plis, 0u);
}

TEST(Vp8DepacketizerLostPacketAsksForKeyframe) {
  auto stream = MakeStream(8, 6);  // keyframes at 0 and 6
  Vp8Depacketizer d(Opts(false));
  std::vector<Vp8Frame> frames;
  int64_t t = 0;
  for (int i = 0; i < 8; ++i, t += 33) {
    for (size_t j = 0; j < stream[i].packets.size(); ++j) {
      if (i == 2 && j == 0) continue;  // frame 2 loses its first packet
      d.Push(stream[i].packets[j].data(), stream[i].packets[j].size(), t);
    }
    d.Poll(t);
    for (auto& f : Drain(&d)) frames.push_back(f);
  }
  // Frames 0 and 1, then the gap is given up after 100 ms; 3..5 are delta frames that depend on the lost
  // one (dropped); 6 is a keyframe and 7 follows it.
  CHECK_EQ(frames.size(), 4u);
  if (frames.size() == 4) {
    CHECK(frames[0].data == stream[0].frame);
    CHECK(frames[1].data == stream[1].frame);
    CHECK(frames[2].data == stream[6].frame);
    CHECK(frames[3].data == stream[7].frame);
  }
  const auto st = d.stats();
  CHECK(st.gaps_lost >= 1);
  CHECK(!st.waiting_for_keyframe);
  // A PLI was due while frames could not be completed; without nack negotiated no NACK is ever built.
  std::vector<uint8_t> rtcp;
  Vp8Depacketizer d2(Opts(false));
  for (int i = 0; i < 3; ++i) {
    for (size_t j = 0; j < stream[i].packets.size(); ++j) {
      if (i == 1 && j == 0) continue;
      d2.Push(stream[i].packets[j].data(), stream[i].packets[j].size(), 33 * i);
    }
  }
  d2.Poll(500);
  CHECK(d2.BuildFeedback(500, 0x2222, &rtcp));
  std::vector<sw::rtp::RtcpPacket> fb;
  CHECK(sw::rtp::ParseRtcp(rtcp.data(), rtcp.size(), &fb) == sw::rtp::RtcpStatus::kOk);
  CHECK_EQ(fb.size(), 1u);
  if (fb.size() == 1) {
    CHECK_EQ(fb[0].type, sw::rtp::kRtcpPsfb);
    CHECK_EQ(fb[0].fmt, sw::rtp::kFmtPli);
    CHECK_EQ(fb[0].media_ssrc, 0xABCDu);
  }
  // Rate-limited: asking again at once yields nothing; after pli_interval_ms it does.
  d2.RequestKeyframe();
  rtcp.clear();
  CHECK(!d2.BuildFeedback(600, 0x2222, &rtcp));
  CHECK(d2.BuildFeedback(1000, 0x2222, &rtcp));
}

TEST(Vp8DepacketizerPliBeforeFirstPacket) {
  // A keyframe asked for before any packet (a snapshot wanted before the camera sent anything): with no SSRC
  // to name, the PLI is kept (not spent) and nothing is due on the clock.
  Vp8Depacketizer d(Opts());
  d.RequestKeyframe();
  std::vector<uint8_t> rtcp;
  CHECK(!d.BuildFeedback(0, 0x2222, &rtcp));
  CHECK_EQ(d.NextDeadlineMs(), -1);
  CHECK_EQ(d.stats().loss.plis, 0u);
  // With the SSRC the peer's SDP announced, it goes out at once, addressed to that SSRC.
  CHECK(d.BuildFeedback(10, 0x2222, &rtcp, 0x5151));
  std::vector<sw::rtp::RtcpPacket> fb;
  CHECK(sw::rtp::ParseRtcp(rtcp.data(), rtcp.size(), &fb) == sw::rtp::RtcpStatus::kOk);
  CHECK_EQ(fb.size(), 1u);
  if (fb.size() == 1) {
    CHECK_EQ(fb[0].fmt, sw::rtp::kFmtPli);
    CHECK_EQ(fb[0].media_ssrc, 0x5151u);
  }
  CHECK_EQ(d.stats().loss.plis, 1u);
  // Rate-limited as every PLI.
  d.RequestKeyframe();
  rtcp.clear();
  CHECK(!d.BuildFeedback(20, 0x2222, &rtcp, 0x5151));
  // Once a packet named the stream, its SSRC wins over the announced one.
  auto stream = MakeStream(2, 4);
  for (const auto& p : stream[1].packets) d.Push(p.data(), p.size(), 600);  // a delta frame: no keyframe
  d.Poll(600);
  rtcp.clear();
  CHECK(d.BuildFeedback(600, 0x2222, &rtcp, 0x5151));
  fb.clear();
  CHECK(sw::rtp::ParseRtcp(rtcp.data(), rtcp.size(), &fb) == sw::rtp::RtcpStatus::kOk);
  CHECK(!fb.empty());
  if (!fb.empty()) CHECK_EQ(fb.back().media_ssrc, 0xABCDu);
}

TEST(Vp8DepacketizerStartsOnKeyframeOnly) {
  auto stream = MakeStream(8, 4);
  Vp8Depacketizer d(Opts());
  std::vector<Vp8Frame> frames;
  for (int i = 1; i < 8; ++i) {  // joins after the first keyframe
    for (const auto& p : stream[i].packets) d.Push(p.data(), p.size(), 33 * i);
    for (auto& f : Drain(&d)) frames.push_back(f);
  }
  CHECK_EQ(frames.size(), 4u);
  if (!frames.empty()) CHECK(frames[0].keyframe && frames[0].data == stream[4].frame);
  CHECK_EQ(d.stats().frames_dropped, 3u);
  std::vector<uint8_t> rtcp;
  CHECK(d.BuildFeedback(300, 1, &rtcp) == false);  // the keyframe arrived: the pending PLI was dropped
}

TEST(Vp8DepacketizerRefusesCorruptPacketsTyped) {
  Vp8Depacketizer d(Opts());
  auto stream = MakeStream(1, 1);
  std::vector<uint8_t> p = stream[0].packets[0];
  sw::rtp::RtpHeader h;
  CHECK(sw::rtp::ParseRtp(p.data(), p.size(), &h) == sw::rtp::RtpStatus::kOk);
  // Descriptor says X, I, M but the payload ends after the first picture ID byte.
  std::vector<uint8_t> trunc(p.begin(), p.begin() + h.payload_offset + 3);
  CHECK(d.Push(trunc.data(), trunc.size(), 0) == Vp8Status::kTruncatedDescriptor);
  // A keyframe start with a broken start code.
  std::vector<uint8_t> bad = p;
  bad[h.payload_offset + 4 + 3] = 0x00;
  CHECK(d.Push(bad.data(), bad.size(), 0) == Vp8Status::kBadKeyframeStartCode);
  std::vector<uint8_t> short_rtp(p.begin(), p.begin() + 8);
  CHECK(d.Push(short_rtp.data(), short_rtp.size(), 0) == Vp8Status::kNotRtp);
  std::vector<uint8_t> other_pt = p;
  other_pt[1] = static_cast<uint8_t>((other_pt[1] & 0x80) | 97);
  CHECK(d.Push(other_pt.data(), other_pt.size(), 0) == Vp8Status::kPayloadTypeMismatch);
  std::vector<uint8_t> empty(p.begin(), p.begin() + h.payload_offset);
  CHECK(d.Push(empty.data(), empty.size(), 0) == Vp8Status::kEmptyPayload);
  CHECK_EQ(d.stats().malformed, 5u);
  CHECK_EQ(d.stats().packets, 0u);
  // The stream itself still works afterwards.
  for (const auto& q : stream[0].packets) CHECK(d.Push(q.data(), q.size(), 1) == Vp8Status::kOk);
  CHECK_EQ(Drain(&d).size(), 1u);
}

TEST(Vp8DepacketizerBoundsMemoryAndRestarts) {
  Vp8DepacketizerOptions o = Opts();
  o.max_packets = 16;
  Vp8Depacketizer d(o);
  auto stream = MakeStream(40, 100);
  // Lose the first packet of frame 1: everything behind it waits, but never more than 16 packets.
  for (int i = 0; i < 40; ++i) {
    for (size_t j = 0; j < stream[i].packets.size(); ++j) {
      if (i == 1 && j == 0) continue;
      d.Push(stream[i].packets[j].data(), stream[i].packets[j].size(), 0);
      CHECK(d.stats().buffered_packets <= 16);
    }
  }
  // A new SSRC restarts the stream: it waits for a keyframe again.
  Vp8PacketizerOptions po;
  po.ssrc = 0x9999;
  po.payload_type = 96;
  Vp8Packetizer pk(po);
  Packets kf;
  auto frame = FakeFrame(true, 2000, 1);
  pk.Packetize(frame.data(), frame.size(), 1, &kf);
  Drain(&d);
  for (const auto& p : kf) d.Push(p.data(), p.size(), 5);
  auto frames = Drain(&d);
  CHECK_EQ(frames.size(), 1u);
  if (!frames.empty()) CHECK_EQ(frames[0].ssrc, 0x9999u);
  CHECK(d.stats().resets >= 1);
}

TEST(LossControllerNackRetriesAndGivesUp) {
  LossControllerOptions o;
  o.nack = true;
  o.nack_interval_ms = 20;
  o.max_nack_retries = 2;
  LossController lc(o);
  lc.OnPacket(100, 0);
  lc.OnPacket(104, 1);  // 101..103 missing
  std::vector<uint16_t> nacks;
  bool pli = false;
  CHECK(lc.Poll(1, &nacks, &pli));
  CHECK((nacks == std::vector<uint16_t>{101, 102, 103}));
  CHECK(!pli);
  lc.OnPacket(102, 5);
  CHECK(!lc.Poll(10, &nacks, &pli));
  CHECK(lc.Poll(21, &nacks, &pli));
  CHECK((nacks == std::vector<uint16_t>{101, 103}));
  CHECK(!lc.Poll(50, &nacks, &pli));  // two retries used up
  CHECK_EQ(lc.stats().nack_give_ups, 2u);
  CHECK_EQ(lc.stats().recovered, 1u);
  // A gap larger than the list asks for a keyframe instead.
  lc.OnPacket(2000, 60);
  CHECK(lc.Poll(60, &nacks, &pli));
  CHECK(pli && nacks.empty());
}

TEST(VideoSenderFeedbackPliFirRemb) {
  VideoSenderFeedback fb(0x1234, 300);
  std::vector<uint8_t> rtcp;
  sw::rtp::AppendPli(&rtcp, 1, 0x1234);
  sw::rtp::AppendPli(&rtcp, 1, 0x9999);  // someone else's stream
  sw::rtp::AppendNack(&rtcp, 1, 0x1234, {5, 6, 7});
  // FIR (PSFB FMT 4) for us with command sequence 9, written by hand (RFC 5104 4.3.1).
  const uint8_t fir[] = {0x84, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 9, 0, 0, 0};
  rtcp.insert(rtcp.end(), fir, fir + sizeof fir);
  // REMB: 1 SSRC (ours), exponent 3, mantissa 125000 -> 1 Mbit/s.
  const uint32_t mant = 125000;
  const uint8_t remb[] = {0x8F,
                          206,
                          0,
                          5,
                          0,
                          0,
                          0,
                          1,
                          0,
                          0,
                          0,
                          0,
                          'R',
                          'E',
                          'M',
                          'B',
                          1,
                          static_cast<uint8_t>((3 << 2) | (mant >> 16)),
                          static_cast<uint8_t>(mant >> 8),
                          static_cast<uint8_t>(mant),
                          0,
                          0,
                          0x12,
                          0x34};
  rtcp.insert(rtcp.end(), remb, remb + sizeof remb);
  VideoFeedbackResult r;
  CHECK(fb.OnRtcp(rtcp.data(), rtcp.size(), &r) == sw::rtp::RtcpStatus::kOk);
  CHECK(r.keyframe_requested);
  CHECK_EQ(r.remb_bps, 1000000);
  CHECK_EQ(r.nacked, 3u);
  CHECK_EQ(fb.stats().plis, 1u);
  CHECK_EQ(fb.stats().firs, 1u);
  CHECK(fb.TakeKeyframeRequest(1000));
  CHECK(!fb.TakeKeyframeRequest(1001));
  // The same FIR again is a retransmission: no new request. A PLI inside 300 ms waits, then is granted.
  std::vector<uint8_t> again(fir, fir + sizeof fir);
  CHECK(fb.OnRtcp(again.data(), again.size(), &r) == sw::rtp::RtcpStatus::kOk);
  CHECK(!r.keyframe_requested);
  std::vector<uint8_t> pli;
  sw::rtp::AppendPli(&pli, 1, 0x1234);
  fb.OnRtcp(pli.data(), pli.size(), &r);
  CHECK(!fb.TakeKeyframeRequest(1100));
  CHECK(fb.TakeKeyframeRequest(1300));
  const uint8_t garbage[] = {0x80, 206, 0, 9};
  CHECK(fb.OnRtcp(garbage, sizeof garbage, &r) != sw::rtp::RtcpStatus::kOk);
}
