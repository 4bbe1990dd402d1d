#include "core/video/vp8_codec.h"

#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>

#include <stdexcept>
#include <string>

#include "core/video/vp8_payload.h"

namespace sw::video {

// ---- decoder ----------------------------------------------------------------------------------------

Vp8Decoder::Vp8Decoder(int threads, int64_t max_pixels) : threads_(threads), max_pixels_(max_pixels) {
  if (threads < 1 || threads > 8) throw std::invalid_argument("threads must be in [1, 8]");
  if (max_pixels < 4) throw std::invalid_argument("max_pixels must be at least 4");
  Init();
}

Vp8Decoder::~Vp8Decoder() {
  if (open_) vpx_codec_destroy(&ctx_);
}

void Vp8Decoder::Init() {
  vpx_codec_dec_cfg_t cfg{};
  cfg.threads = static_cast<unsigned>(threads_);
  if (vpx_codec_dec_init(&ctx_, vpx_codec_vp8_dx(), &cfg, 0) != VPX_CODEC_OK) {
    throw std::runtime_error(std::string("vpx_codec_dec_init: ") + vpx_codec_error(&ctx_));
  }
  open_ = true;
}

void Vp8Decoder::Reset() {
  if (open_) vpx_codec_destroy(&ctx_);
  open_ = false;
  ctx_ = vpx_codec_ctx_t{};
  image_ = I420View{};
  Init();
}

DecodeResult Vp8Decoder::Decode(const uint8_t* data, size_t size) {
  if (data == nullptr || size == 0 || size > UINT32_MAX) {
    error_ = "empty frame";
    return DecodeResult::kError;
  }
  // The picture size is the peer's word (see kMaxDecodePixels): check it before libvpx allocates for it.
  Vp8FrameHeader fh;
  if (ParseVp8FrameHeader(data, size, &fh) == Vp8Status::kOk && fh.keyframe &&
      int64_t{fh.width} * fh.height > max_pixels_) {
    error_ = "keyframe of " + std::to_string(fh.width) + "x" + std::to_string(fh.height) +
             " exceeds the decode limit of " + std::to_string(max_pixels_) + " pixels";
    return DecodeResult::kError;
  }
  if (vpx_codec_decode(&ctx_, data, static_cast<unsigned>(size), nullptr, 0) != VPX_CODEC_OK) {
    const char* detail = vpx_codec_error_detail(&ctx_);
    error_ = std::string(vpx_codec_error(&ctx_)) + (detail != nullptr ? std::string(": ") + detail : "");
    return DecodeResult::kError;
  }
  vpx_codec_iter_t iter = nullptr;
  const vpx_image_t* last = nullptr;
  while (const vpx_image_t* img = vpx_codec_get_frame(&ctx_, &iter)) last = img;
  if (last == nullptr) return DecodeResult::kNoFrame;
  if (last->fmt != VPX_IMG_FMT_I420) {
    error_ = "unexpected image format from libvpx";
    return DecodeResult::kError;
  }
  image_.y = last->planes[VPX_PLANE_Y];
  image_.u = last->planes[VPX_PLANE_U];
  image_.v = last->planes[VPX_PLANE_V];
  image_.stride_y = last->stride[VPX_PLANE_Y];
  image_.stride_u = last->stride[VPX_PLANE_U];
  image_.stride_v = last->stride[VPX_PLANE_V];
  image_.width = static_cast<int>(last->d_w);
  image_.height = static_cast<int>(last->d_h);
  ++frames_;
  return DecodeResult::kFrame;
}

// ---- encoder ----------------------------------------------------------------------------------------

namespace {

void Check(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(what);
}

}  // namespace

Vp8Encoder::Vp8Encoder(const Vp8EncoderOptions& o) : o_(o) {
  Check(o.width >= 2 && o.width <= kMaxVideoDimension, "width must be in [2, 16384]");
  Check(o.height >= 2 && o.height <= kMaxVideoDimension, "height must be in [2, 16384]");
  Check(o.fps >= 1 && o.fps <= 120, "fps must be in [1, 120]");
  Check(o.bitrate >= 10'000 && o.bitrate <= 50'000'000, "bitrate must be in [10000, 50000000]");
  Check(o.keyframe_interval >= 1 && o.keyframe_interval <= 100'000,
        "keyframeInterval must be in [1, 100000]");
  Check(o.cpu_used >= -16 && o.cpu_used <= 16, "cpuUsed must be in [-16, 16]");
  Check(o.threads >= 1 && o.threads <= 8, "threads must be in [1, 8]");
  Check(o.min_quantizer >= 0 && o.min_quantizer <= 63, "minQuantizer must be in [0, 63]");
  Check(o.max_quantizer >= o.min_quantizer && o.max_quantizer <= 63,
        "maxQuantizer must be in [minQuantizer, 63]");
  if (vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &cfg_, 0) != VPX_CODEC_OK) {
    throw std::runtime_error("vpx_codec_enc_config_default failed");
  }
  cfg_.g_w = static_cast<unsigned>(o.width);
  cfg_.g_h = static_cast<unsigned>(o.height);
  cfg_.g_timebase.num = 1;
  cfg_.g_timebase.den = o.fps;
  cfg_.g_threads = static_cast<unsigned>(o.threads);
  cfg_.g_lag_in_frames = 0;  // realtime: every input produces its output at once
  cfg_.g_error_resilient = 0;
  cfg_.g_pass = VPX_RC_ONE_PASS;
  cfg_.rc_end_usage = VPX_CBR;
  cfg_.rc_target_bitrate = static_cast<unsigned>(o.bitrate / 1000);  // kbit/s
  cfg_.rc_min_quantizer = static_cast<unsigned>(o.min_quantizer);
  cfg_.rc_max_quantizer = static_cast<unsigned>(o.max_quantizer);
  cfg_.rc_undershoot_pct = 100;
  cfg_.rc_overshoot_pct = 15;
  cfg_.rc_buf_initial_sz = 500;  // ms
  cfg_.rc_buf_optimal_sz = 600;
  cfg_.rc_buf_sz = 1000;
  cfg_.rc_dropframe_thresh = 0;  // the caller paces frames; a dropped frame would just be a stall
  cfg_.rc_resize_allowed = 0;
  cfg_.kf_mode = VPX_KF_AUTO;
  cfg_.kf_min_dist = 0;
  cfg_.kf_max_dist = static_cast<unsigned>(o.keyframe_interval);
  if (vpx_codec_enc_init(&ctx_, vpx_codec_vp8_cx(), &cfg_, 0) != VPX_CODEC_OK) {
    throw std::runtime_error(std::string("vpx_codec_enc_init: ") + vpx_codec_error(&ctx_));
  }
  vpx_codec_control(&ctx_, VP8E_SET_CPUUSED, o.cpu_used);
  vpx_codec_control(&ctx_, VP8E_SET_NOISE_SENSITIVITY, 0);
  vpx_codec_control(&ctx_, VP8E_SET_STATIC_THRESHOLD, 1);
  vpx_codec_control(&ctx_, VP8E_SET_TOKEN_PARTITIONS, static_cast<int>(VP8_ONE_TOKENPARTITION));
  // Keyframes at most ~3x an average frame, so one does not stall the stream for long.
  vpx_codec_control(&ctx_, VP8E_SET_MAX_INTRA_BITRATE_PCT, 300u);
  input_.Resize(o.width, o.height);
}

Vp8Encoder::~Vp8Encoder() { vpx_codec_destroy(&ctx_); }

void Vp8Encoder::SetBitrate(int bitrate) {
  Check(bitrate >= 10'000 && bitrate <= 50'000'000, "bitrate must be in [10000, 50000000]");
  cfg_.rc_target_bitrate = static_cast<unsigned>(bitrate / 1000);
  if (vpx_codec_enc_config_set(&ctx_, &cfg_) != VPX_CODEC_OK) {
    throw std::runtime_error(std::string("vpx_codec_enc_config_set: ") + vpx_codec_error(&ctx_));
  }
  o_.bitrate = bitrate;
}

bool Vp8Encoder::Encode(const I420View& image, bool force_keyframe, std::vector<uint8_t>* out,
                        bool* keyframe) {
  out->clear();
  *keyframe = false;
  if (image.width != o_.width || image.height != o_.height || image.y == nullptr) {
    error_ = "image size differs from the encoder's";
    return false;
  }
  vpx_image_t img;
  // Wraps the caller's planes without copying; the strides come from the view.
  vpx_img_wrap(&img, VPX_IMG_FMT_I420, static_cast<unsigned>(o_.width), static_cast<unsigned>(o_.height), 1,
               const_cast<uint8_t*>(image.y));
  img.planes[VPX_PLANE_Y] = const_cast<uint8_t*>(image.y);
  img.planes[VPX_PLANE_U] = const_cast<uint8_t*>(image.u);
  img.planes[VPX_PLANE_V] = const_cast<uint8_t*>(image.v);
  img.stride[VPX_PLANE_Y] = image.stride_y;
  img.stride[VPX_PLANE_U] = image.stride_u;
  img.stride[VPX_PLANE_V] = image.stride_v;
  const vpx_enc_frame_flags_t flags = force_keyframe ? VPX_EFLAG_FORCE_KF : 0;
  if (vpx_codec_encode(&ctx_, &img, pts_, 1, flags, VPX_DL_REALTIME) != VPX_CODEC_OK) {
    error_ = std::string("vpx_codec_encode: ") + vpx_codec_error(&ctx_);
    return false;
  }
  ++pts_;
  vpx_codec_iter_t iter = nullptr;
  while (const vpx_codec_cx_pkt_t* pkt = vpx_codec_get_cx_data(&ctx_, &iter)) {
    if (pkt->kind != VPX_CODEC_CX_FRAME_PKT) continue;
    const auto* b = static_cast<const uint8_t*>(pkt->data.frame.buf);
    out->insert(out->end(), b, b + pkt->data.frame.sz);
    if ((pkt->data.frame.flags & VPX_FRAME_IS_KEY) != 0) *keyframe = true;
  }
  if (!out->empty()) ++frames_;
  return true;
}

bool Vp8Encoder::EncodeImage(const uint8_t* data, size_t size, PixelFormat format, int width, int height,
                             bool force_keyframe, std::vector<uint8_t>* out, bool* keyframe) {
  if (format == PixelFormat::kI420 && width == o_.width && height == o_.height &&
      size == ImageBytes(format, width, height)) {
    return Encode(ViewI420(data, width, height), force_keyframe, out, keyframe);
  }
  if (!ConvertToI420(data, size, format, width, height, &input_, &scratch_)) {
    error_ = "image bytes do not match its format and size";
    out->clear();
    *keyframe = false;
    return false;
  }
  return Encode(input_.view(), force_keyframe, out, keyframe);
}

}  // namespace sw::video
