// Unit tests of native/core/video/video_stages: the worker-side halves of the video receiver and sender.
#include "core/video/video_stages.h"

#include <vector>

#include "core/video/vp8_depacketizer.h"
#include "test/test.h"

using namespace sw::video;

TEST(VideoStagesEncodePacketizeDecode) {
  Vp8EncoderOptions eo;
  eo.width = 320;
  eo.height = 240;
  Vp8PacketizerOptions po;
  po.ssrc = 9;
  po.payload_type = 96;
  VideoEncodeStage enc(eo, po);
  Vp8DepacketizerOptions dopts;
  dopts.payload_type = 96;
  Vp8Depacketizer dp(dopts);
  VideoDecodeStage dec;
  std::vector<uint8_t> rgb(640 * 480 * 3);
  int images = 0, decoded_only = 0;
  for (int i = 0; i < 6; ++i) {
    for (size_t p = 0; p < rgb.size(); ++p) rgb[p] = static_cast<uint8_t>(p * 3 + i * 5);
    EncodeRequest req;
    req.image = rgb;  // 640x480 in: scaled to the encoder's 320x240
    req.width = 640;
    req.height = 480;
    req.timestamp = 3000u * static_cast<uint32_t>(i);
    req.keyframe = i == 3;
    req.bitrate = i >= 4 ? 300'000 : 0;
    const EncodedPackets out = enc.Run(req);
    CHECK(out.ok);
    CHECK_EQ(out.keyframe, i == 0 || i == 3);
    CHECK(!out.packets.empty());
    for (const auto& p : out.packets) CHECK(dp.Push(p.data(), p.size(), i * 33) == Vp8Status::kOk);
    Vp8Frame f;
    while (dp.PopFrame(&f)) {
      DecodeRequest dr;
      dr.convert = i % 2 == 0;  // decimation: every other frame converted
      dr.format = PixelFormat::kRgba;
      dr.max_width = 160;
      const DecodedImage img = dec.Run(f.data.data(), f.data.size(), f.timestamp, f.ssrc, f.keyframe, dr);
      if (dr.convert) {
        CHECK(img.status == DecodedImage::Status::kImage);
        CHECK_EQ(img.width, 160);
        CHECK_EQ(img.height, 120);
        CHECK_EQ(img.data.size(), 160u * 120 * 4);
        ++images;
      } else {
        CHECK(img.status == DecodedImage::Status::kDecodedOnly);
        CHECK_EQ(img.width, 320);
        CHECK(img.data.empty());
        ++decoded_only;
      }
      CHECK_EQ(img.timestamp, f.timestamp);
    }
  }
  CHECK_EQ(images, 3);
  CHECK_EQ(decoded_only, 3);
  // Bad input: a wrong byte count is an error result, never a crash; garbage to the decoder likewise.
  EncodeRequest bad;
  bad.image.resize(10);
  bad.width = 640;
  bad.height = 480;
  CHECK(!enc.Run(bad).ok);
  const uint8_t junk[] = {0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x10, 0x00, 0x10, 0x00, 1, 2, 3};
  CHECK(dec.Run(junk, sizeof junk, 0, 0, true, DecodeRequest{}).status == DecodedImage::Status::kError);
}

TEST(VideoStagesDecodeSkipsDeltaFramesAfterADropUntilAKeyframe) {
  // A frame dropped before the decoder (decode queue full): the delta frames after it reference a picture the
  // decoder never had, so they are skipped (no image, counted) until the next keyframe, which decodes again.
  Vp8EncoderOptions eo;
  eo.width = 160;
  eo.height = 120;
  Vp8PacketizerOptions po;
  po.ssrc = 5;
  po.payload_type = 96;
  VideoEncodeStage enc(eo, po);
  Vp8DepacketizerOptions dopts;
  dopts.payload_type = 96;
  Vp8Depacketizer dp(dopts);
  VideoDecodeStage dec;
  std::vector<uint8_t> rgb(160 * 120 * 3);
  std::vector<DecodedImage::Status> got;
  for (int i = 0; i < 8; ++i) {
    for (size_t p = 0; p < rgb.size(); ++p) rgb[p] = static_cast<uint8_t>(p + i * 7);
    EncodeRequest req;
    req.image = rgb;
    req.width = 160;
    req.height = 120;
    req.timestamp = 3000u * static_cast<uint32_t>(i);
    req.keyframe = i == 6;
    const EncodedPackets out = enc.Run(req);
    CHECK(out.ok);
    CHECK_EQ(out.keyframe, i == 0 || i == 6);
    for (const auto& p : out.packets) CHECK(dp.Push(p.data(), p.size(), i * 33) == Vp8Status::kOk);
    Vp8Frame f;
    while (dp.PopFrame(&f)) {
      if (i == 2) {
        dec.DiscardUntilKeyframe();  // frame 2 dropped by the queue: never decoded
        continue;
      }
      DecodeRequest dr;
      dr.convert = true;
      got.push_back(dec.Run(f.data.data(), f.data.size(), f.timestamp, f.ssrc, f.keyframe, dr).status);
    }
  }
  using S = DecodedImage::Status;
  // Frames 0, 1 decoded; 3, 4, 5 skipped; the keyframe 6 and the delta 7 after it decoded.
  const std::vector<S> want = {S::kImage,   S::kImage, S::kNoFrame, S::kNoFrame,
                               S::kNoFrame, S::kImage, S::kImage};
  CHECK(got == want);
  CHECK_EQ(dec.skippedUntilKeyframe(), 3u);
}
