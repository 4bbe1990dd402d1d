#include "core/video/video_frame.h"

#include <libyuv/convert.h>
#include <libyuv/convert_argb.h>
#include <libyuv/convert_from.h>
#include <libyuv/scale.h>

#include <algorithm>
#include <stdexcept>

namespace sw::video {
namespace {

bool ValidSize(int width, int height) {
  return width > 0 && height > 0 && width <= kMaxVideoDimension && height <= kMaxVideoDimension;
}

int BytesPerPixel(PixelFormat format) {
  switch (format) {
    case PixelFormat::kRgb:
      return 3;
    case PixelFormat::kRgba:
    case PixelFormat::kBgra:
      return 4;
    case PixelFormat::kI420:
      break;
  }
  return 0;
}

}  // namespace

size_t ImageBytes(PixelFormat format, int width, int height) {
  if (!ValidSize(width, height)) return 0;
  const size_t w = static_cast<size_t>(width);
  const size_t h = static_cast<size_t>(height);
  if (format == PixelFormat::kI420) return w * h + 2 * (((w + 1) / 2) * ((h + 1) / 2));
  return w * h * static_cast<size_t>(BytesPerPixel(format));
}

void FitWidth(int width, int height, int max_width, int* out_width, int* out_height) {
  if (max_width <= 0 || width <= max_width) {
    *out_width = width;
    *out_height = height;
    return;
  }
  const int w = std::max(2, max_width & ~1);
  // Rounded to the nearest even height.
  const int64_t h = (static_cast<int64_t>(height) * w + width / 2) / width;
  *out_width = w;
  *out_height = std::max<int>(2, static_cast<int>(h) & ~1);
}

void I420Buffer::Resize(int width, int height) {
  if (!ValidSize(width, height)) throw std::invalid_argument("image size out of range");
  if (width == width_ && height == height_) return;
  width_ = width;
  height_ = height;
  data_.assign(ImageBytes(PixelFormat::kI420, width, height), 0);
}

I420View I420Buffer::view() const {
  I420View v = ViewI420(data_.data(), width_, height_);
  return v;
}

I420View ViewI420(const uint8_t* data, int width, int height) {
  I420View v;
  const int cw = (width + 1) / 2;
  const int ch = (height + 1) / 2;
  v.y = data;
  v.u = data + static_cast<size_t>(width) * height;
  v.v = v.u + static_cast<size_t>(cw) * ch;
  v.stride_y = width;
  v.stride_u = cw;
  v.stride_v = cw;
  v.width = width;
  v.height = height;
  return v;
}

bool ConvertFromI420(const I420View& src, PixelFormat format, int dst_width, int dst_height,
                     std::vector<uint8_t>* out, I420Buffer* scratch) {
  out->resize(ImageBytes(format, dst_width, dst_height));
  return ConvertFromI420(src, format, dst_width, dst_height, out->data(), out->size(), scratch);
}

bool ConvertFromI420(const I420View& src, PixelFormat format, int dst_width, int dst_height, uint8_t* dst,
                     size_t dst_size, I420Buffer* scratch) {
  if (!ValidSize(src.width, src.height) || !ValidSize(dst_width, dst_height)) return false;
  if (dst == nullptr || dst_size != ImageBytes(format, dst_width, dst_height)) return false;
  I420View s = src;
  if (dst_width != src.width || dst_height != src.height) {
    scratch->Resize(dst_width, dst_height);
    if (libyuv::I420Scale(src.y, src.stride_y, src.u, src.stride_u, src.v, src.stride_v, src.width,
                          src.height, scratch->y(), dst_width, scratch->u(), scratch->ChromaWidth(),
                          scratch->v(), scratch->ChromaWidth(), dst_width, dst_height,
                          libyuv::kFilterBilinear) != 0) {
      return false;
    }
    s = scratch->view();
  }
  uint8_t* d = dst;
  const int w = dst_width;
  const int h = dst_height;
  int rc = 0;
  switch (format) {
    case PixelFormat::kI420: {
      const I420View o = ViewI420(d, w, h);
      rc = libyuv::I420Copy(s.y, s.stride_y, s.u, s.stride_u, s.v, s.stride_v, const_cast<uint8_t*>(o.y),
                            o.stride_y, const_cast<uint8_t*>(o.u), o.stride_u, const_cast<uint8_t*>(o.v),
                            o.stride_v, w, h);
      break;
    }
    case PixelFormat::kRgb:
      rc = libyuv::I420ToRAW(s.y, s.stride_y, s.u, s.stride_u, s.v, s.stride_v, d, w * 3, w, h);
      break;
    case PixelFormat::kRgba:
      rc = libyuv::I420ToABGR(s.y, s.stride_y, s.u, s.stride_u, s.v, s.stride_v, d, w * 4, w, h);
      break;
    case PixelFormat::kBgra:
      rc = libyuv::I420ToARGB(s.y, s.stride_y, s.u, s.stride_u, s.v, s.stride_v, d, w * 4, w, h);
      break;
  }
  return rc == 0;
}

bool ConvertToI420(const uint8_t* data, size_t size, PixelFormat format, int width, int height,
                   I420Buffer* dst, I420Buffer* scratch) {
  if (dst->width() == 0 || size != ImageBytes(format, width, height) || size == 0) return false;
  const bool scale = width != dst->width() || height != dst->height();
  I420Buffer* target = dst;
  if (scale) {
    if (format == PixelFormat::kI420) {
      const I420View s = ViewI420(data, width, height);
      return libyuv::I420Scale(s.y, s.stride_y, s.u, s.stride_u, s.v, s.stride_v, width, height, dst->y(),
                               dst->width(), dst->u(), dst->ChromaWidth(), dst->v(), dst->ChromaWidth(),
                               dst->width(), dst->height(), libyuv::kFilterBilinear) == 0;
    }
    scratch->Resize(width, height);
    target = scratch;
  }
  const int cw = target->ChromaWidth();
  int rc = 0;
  switch (format) {
    case PixelFormat::kI420: {
      const I420View s = ViewI420(data, width, height);
      rc = libyuv::I420Copy(s.y, s.stride_y, s.u, s.stride_u, s.v, s.stride_v, target->y(), width,
                            target->u(), cw, target->v(), cw, width, height);
      break;
    }
    case PixelFormat::kRgb:
      rc = libyuv::RAWToI420(data, width * 3, target->y(), width, target->u(), cw, target->v(), cw, width,
                             height);
      break;
    case PixelFormat::kRgba:
      rc = libyuv::ABGRToI420(data, width * 4, target->y(), width, target->u(), cw, target->v(), cw, width,
                              height);
      break;
    case PixelFormat::kBgra:
      rc = libyuv::ARGBToI420(data, width * 4, target->y(), width, target->u(), cw, target->v(), cw, width,
                              height);
      break;
  }
  if (rc != 0) return false;
  if (!scale) return true;
  const I420View s = scratch->view();
  return libyuv::I420Scale(s.y, s.stride_y, s.u, s.stride_u, s.v, s.stride_v, width, height, dst->y(),
                           dst->width(), dst->u(), dst->ChromaWidth(), dst->v(), dst->ChromaWidth(),
                           dst->width(), dst->height(), libyuv::kFilterBilinear) == 0;
}

}  // namespace sw::video
