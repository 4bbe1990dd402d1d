// Unit tests of native/core/video's codec and colour conversion: encode -> packetize -> depacketize ->
// decode round trips checked by PSNR, byte order of every packed format, scaling on both sides.
#include "core/video/vp8_codec.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/video/video_frame.h"
#include "core/video/vp8_depacketizer.h"
#include "core/video/vp8_packetizer.h"
#include "test/test.h"

using namespace sw::video;

namespace {

// A smooth test picture (gradients + a moving square), R,G,B in memory.
std::vector<uint8_t> TestImage(int w, int h, int frame) {
  std::vector<uint8_t> rgb(static_cast<size_t>(w) * h * 3);
  const int sx = (frame * 8) % std::max(1, w - w / 5);
  const int sy = (frame * 4) % std::max(1, h - h / 5);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &rgb[(static_cast<size_t>(y) * w + x) * 3];
      const bool square = x >= sx && x < sx + w / 5 && y >= sy && y < sy + h / 5;
      p[0] = square ? 230 : static_cast<uint8_t>(255 * x / w);
      p[1] = square ? 40 : static_cast<uint8_t>(255 * y / h);
      p[2] = square ? 60 : static_cast<uint8_t>(128 + 64 * std::sin(x * 0.02));
    }
  }
  return rgb;
}

double Psnr(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  if (a.size() != b.size() || a.empty()) return 0;
  double se = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    se += d * d;
  }
  const double mse = se / static_cast<double>(a.size());
  return mse == 0 ? 99.0 : 10 * std::log10(255.0 * 255.0 / mse);
}

// Encodes `frames` frames of w x h, sends them through packetizer -> (shuffled) depacketizer -> decoder
// and returns the lowest per-frame RGB PSNR.
double RoundTrip(int w, int h, int frames, int bitrate, bool shuffle) {
  Vp8EncoderOptions eo;
  eo.width = w;
  eo.height = h;
  eo.bitrate = bitrate;
  Vp8Encoder enc(eo);
  Vp8PacketizerOptions po;
  po.ssrc = 42;
  po.payload_type = 96;
  Vp8Packetizer pk(po);
  Vp8DepacketizerOptions dopts;
  dopts.payload_type = 96;
  Vp8Depacketizer dp(dopts);
  Vp8Decoder dec;
  std::mt19937 rng(7);
  double worst = 99;
  int decoded = 0;
  std::vector<uint8_t> encoded, rgb_out;
  I420Buffer scratch;
  for (int i = 0; i < frames; ++i) {
    const auto src = TestImage(w, h, i);
    bool key = false;
    CHECK(enc.EncodeImage(src.data(), src.size(), PixelFormat::kRgb, w, h, false, &encoded, &key));
    CHECK_EQ(key, i == 0);
    std::vector<std::vector<uint8_t>> packets;
    CHECK(pk.Packetize(encoded.data(), encoded.size(), 3000u * static_cast<uint32_t>(i), &packets) ==
          Vp8Status::kOk);
    for (const auto& p : packets) CHECK(p.size() <= kDefaultVideoMtu);
    if (shuffle) std::shuffle(packets.begin(), packets.end(), rng);
    for (const auto& p : packets) CHECK(dp.Push(p.data(), p.size(), i * 33) == Vp8Status::kOk);
    Vp8Frame f;
    while (dp.PopFrame(&f)) {
      CHECK(dec.Decode(f.data.data(), f.data.size()) == DecodeResult::kFrame);
      CHECK_EQ(dec.image().width, w);
      CHECK_EQ(dec.image().height, h);
      CHECK(ConvertFromI420(dec.image(), PixelFormat::kRgb, w, h, &rgb_out, &scratch));
      worst = std::min(worst, Psnr(src, rgb_out));
      ++decoded;
    }
  }
  CHECK_EQ(decoded, frames);
  return worst;
}

}  // namespace

TEST(Vp8RoundTripPsnr640x480) {
  const double psnr = RoundTrip(640, 480, 12, 1'500'000, true);
  std::printf("  640x480 worst RGB PSNR %.1f dB\n", psnr);
  CHECK(psnr > 30);
}

TEST(Vp8RoundTripPsnr1280x720) {
  const double psnr = RoundTrip(1280, 720, 4, 2'500'000, false);
  std::printf("  1280x720 worst RGB PSNR %.1f dB\n", psnr);
  CHECK(psnr > 30);
}

TEST(VideoFrameByteOrders) {
  // A pure red RGB image through I420 and back into every packed format.
  const int w = 16, h = 8;
  std::vector<uint8_t> red(static_cast<size_t>(w) * h * 3);
  for (size_t i = 0; i < red.size(); i += 3) red[i] = 255;
  I420Buffer yuv, scratch;
  yuv.Resize(w, h);
  CHECK(ConvertToI420(red.data(), red.size(), PixelFormat::kRgb, w, h, &yuv, &scratch));
  std::vector<uint8_t> out;
  CHECK(ConvertFromI420(yuv.view(), PixelFormat::kRgb, w, h, &out, &scratch));
  CHECK_EQ(out.size(), red.size());
  CHECK(out[0] > 240 && out[1] < 15 && out[2] < 15);  // R,G,B
  CHECK(ConvertFromI420(yuv.view(), PixelFormat::kRgba, w, h, &out, &scratch));
  CHECK(out[0] > 240 && out[2] < 15 && out[3] == 255);  // R,G,B,A
  CHECK(ConvertFromI420(yuv.view(), PixelFormat::kBgra, w, h, &out, &scratch));
  CHECK(out[0] < 15 && out[2] > 240 && out[3] == 255);  // B,G,R,A
  CHECK(ConvertFromI420(yuv.view(), PixelFormat::kI420, w, h, &out, &scratch));
  CHECK(out == yuv.data());
  // RGBA and BGRA input say red in their own byte order.
  std::vector<uint8_t> rgba(static_cast<size_t>(w) * h * 4), bgra(rgba.size());
  for (size_t i = 0; i < rgba.size(); i += 4) {
    rgba[i] = 255;
    rgba[i + 3] = 255;
    bgra[i + 2] = 255;
    bgra[i + 3] = 255;
  }
  I420Buffer a, b;
  a.Resize(w, h);
  b.Resize(w, h);
  CHECK(ConvertToI420(rgba.data(), rgba.size(), PixelFormat::kRgba, w, h, &a, &scratch));
  CHECK(ConvertToI420(bgra.data(), bgra.size(), PixelFormat::kBgra, w, h, &b, &scratch));
  CHECK(a.data() == yuv.data());
  CHECK(b.data() == yuv.data());
  // A byte count that does not match the format and size is refused.
  CHECK(!ConvertToI420(red.data(), red.size() - 1, PixelFormat::kRgb, w, h, &yuv, &scratch));
  CHECK_EQ(ImageBytes(PixelFormat::kI420, 5, 3), 15u + 2 * 3 * 2);
  CHECK_EQ(ImageBytes(PixelFormat::kRgb, 0, 3), 0u);
}

TEST(VideoScalingBothWays) {
  int ow = 0, oh = 0;
  FitWidth(1280, 720, 320, &ow, &oh);
  CHECK_EQ(ow, 320);
  CHECK_EQ(oh, 180);
  FitWidth(640, 480, 0, &ow, &oh);
  CHECK_EQ(ow, 640);
  FitWidth(640, 480, 1000, &ow, &oh);  // never upscales
  CHECK_EQ(ow, 640);
  FitWidth(101, 999, 3, &ow, &oh);
  CHECK_EQ(ow, 2);
  CHECK(oh >= 2 && oh % 2 == 0);

  // The encoder takes 640x480 RGB while encoding 320x240; the decoder's output is downscaled to 160 wide.
  Vp8EncoderOptions eo;
  eo.width = 320;
  eo.height = 240;
  Vp8Encoder enc(eo);
  const auto src = TestImage(640, 480, 0);
  std::vector<uint8_t> encoded;
  bool key = false;
  CHECK(enc.EncodeImage(src.data(), src.size(), PixelFormat::kRgb, 640, 480, false, &encoded, &key));
  CHECK(key && !encoded.empty());
  Vp8Decoder dec;
  CHECK(dec.Decode(encoded.data(), encoded.size()) == DecodeResult::kFrame);
  CHECK_EQ(dec.image().width, 320);
  FitWidth(dec.image().width, dec.image().height, 160, &ow, &oh);
  std::vector<uint8_t> small;
  I420Buffer scratch;
  CHECK(ConvertFromI420(dec.image(), PixelFormat::kRgb, ow, oh, &small, &scratch));
  CHECK_EQ(small.size(), 160u * 120 * 3);
  // Same picture at 160x120 by scaling the source directly: close to what went through the codec.
  I420Buffer ref, s2;
  ref.Resize(160, 120);
  CHECK(ConvertToI420(src.data(), src.size(), PixelFormat::kRgb, 640, 480, &ref, &s2));
  std::vector<uint8_t> ref_rgb;
  CHECK(ConvertFromI420(ref.view(), PixelFormat::kRgb, 160, 120, &ref_rgb, &s2));
  CHECK(Psnr(ref_rgb, small) > 25);
}

TEST(Vp8EncoderKeyframeOnDemandAndBitrate) {
  Vp8EncoderOptions eo;
  eo.width = 160;
  eo.height = 120;
  eo.bitrate = 200'000;
  Vp8Encoder enc(eo);
  std::vector<uint8_t> out;
  bool key = false;
  I420Buffer img;
  img.Resize(160, 120);
  CHECK(enc.Encode(img.view(), false, &out, &key) && key);
  CHECK(enc.Encode(img.view(), false, &out, &key) && !key);
  CHECK(enc.Encode(img.view(), true, &out, &key) && key);
  enc.SetBitrate(100'000);
  CHECK_EQ(enc.options().bitrate, 100'000);
  bool threw = false;
  try {
    enc.SetBitrate(5);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
  I420Buffer wrong;
  wrong.Resize(162, 120);
  CHECK(!enc.Encode(wrong.view(), false, &out, &key));
  // Garbage to the decoder: an error, not a crash; a keyframe afterwards decodes again.
  Vp8Decoder dec;
  const uint8_t junk[] = {0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x10, 0x00, 0x10, 0x00, 1, 2, 3};
  CHECK(dec.Decode(junk, sizeof junk) == DecodeResult::kError);
  CHECK(!dec.last_error().empty());
  CHECK(enc.Encode(img.view(), true, &out, &key) && key);
  CHECK(dec.Decode(out.data(), out.size()) == DecodeResult::kFrame);
}

TEST(Vp8DecoderRefusesKeyframesAboveThePixelLimit) {
  // A real 64x48 keyframe whose header is rewritten to announce 16383x16383 (the picture size is the
  // peer's word): refused before libvpx allocates for it; the decoder still decodes the real one after.
  Vp8EncoderOptions eo;
  eo.width = 64;
  eo.height = 48;
  Vp8Encoder enc(eo);
  const auto src = TestImage(64, 48, 0);
  std::vector<uint8_t> key;
  bool is_key = false;
  CHECK(enc.EncodeImage(src.data(), src.size(), PixelFormat::kRgb, 64, 48, true, &key, &is_key));
  CHECK(is_key && key.size() > 10);
  std::vector<uint8_t> big = key;
  big[6] = 0xff;  // width 16383, scale 0 (14 bits little endian)
  big[7] = 0x3f;
  big[8] = 0xff;  // height 16383
  big[9] = 0x3f;
  Vp8Decoder dec;
  CHECK(dec.Decode(big.data(), big.size()) == DecodeResult::kError);
  CHECK(dec.last_error().find("exceeds the decode limit") != std::string::npos);
  CHECK(dec.Decode(key.data(), key.size()) == DecodeResult::kFrame);
  CHECK_EQ(dec.image().width, 64);
  // A lower limit applies to real sizes too.
  Vp8Decoder small(1, 64 * 47);
  CHECK(small.Decode(key.data(), key.size()) == DecodeResult::kError);
}
