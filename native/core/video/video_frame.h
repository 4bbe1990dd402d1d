// Raw video images and colour conversion (libyuv): I420 <-> packed RGB/RGBA/BGRA, with scaling done in
// I420 before the conversion (so a downscaled output costs the conversion of the small image only).
//
// Byte orders, as they lie in memory (libyuv names formats after a little-endian 32-bit word, so its
// "RGB24" is B,G,R in memory and "RAW" is R,G,B; "ABGR" is R,G,B,A and "ARGB" is B,G,R,A):
//   kRgb  = R,G,B        (libyuv RAW)
//   kRgba = R,G,B,A      (libyuv ABGR)
//   kBgra = B,G,R,A      (libyuv ARGB)
//   kI420 = the Y plane (width x height), then U and V ((width+1)/2 x (height+1)/2 each), no padding.
// Colour matrix: BT.601 limited range, what VP8 carries. Pure C++17, synchronous, thread-agnostic
// (each buffer has one owner thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sw::video {

enum class PixelFormat : uint8_t { kI420 = 0, kRgb, kRgba, kBgra };

inline constexpr int kMaxVideoDimension = 16384;  // pixels per side accepted anywhere

// Bytes of a tightly packed image of this format and size; 0 when the size is out of range.
size_t ImageBytes(PixelFormat format, int width, int height);

// The size to convert a width x height image to so it is at most max_width wide (0: no limit), keeping the
// aspect ratio, both sides even (I420 chroma) and at least 2. Never upscales.
void FitWidth(int width, int height, int max_width, int* out_width, int* out_height);

// A read-only view of an I420 image in someone else's memory.
struct I420View {
  const uint8_t* y = nullptr;
  const uint8_t* u = nullptr;
  const uint8_t* v = nullptr;
  int stride_y = 0;
  int stride_u = 0;
  int stride_v = 0;
  int width = 0;
  int height = 0;
};

// A tightly packed I420 image that owns its memory.
class I420Buffer {
 public:
  // Reallocates only when the size changes. Throws std::invalid_argument for a size out of range.
  void Resize(int width, int height);
  int width() const { return width_; }
  int height() const { return height_; }
  uint8_t* y() { return data_.data(); }
  uint8_t* u() { return data_.data() + static_cast<size_t>(width_) * height_; }
  uint8_t* v() { return u() + static_cast<size_t>(ChromaWidth()) * ChromaHeight(); }
  int ChromaWidth() const { return (width_ + 1) / 2; }
  int ChromaHeight() const { return (height_ + 1) / 2; }
  I420View view() const;
  const std::vector<uint8_t>& data() const { return data_; }

 private:
  std::vector<uint8_t> data_;
  int width_ = 0;
  int height_ = 0;
};

// A view of tightly packed I420 bytes (`size` must be ImageBytes(kI420, w, h)).
I420View ViewI420(const uint8_t* data, int width, int height);

// Converts `src` to `format` at dst_width x dst_height into *out (resized to fit), scaling in I420 first
// (bilinear) when the sizes differ; `scratch` holds the scaled image. False for a size out of range.
bool ConvertFromI420(const I420View& src, PixelFormat format, int dst_width, int dst_height,
                     std::vector<uint8_t>* out, I420Buffer* scratch);
// The same into caller memory: `dst` must hold `dst_size` == ImageBytes(format, dst_width, dst_height).
bool ConvertFromI420(const I420View& src, PixelFormat format, int dst_width, int dst_height, uint8_t* dst,
                     size_t dst_size, I420Buffer* scratch);

// Converts a tightly packed `format` image of width x height (`size` bytes, checked) into `dst`, which
// must already have the wanted size; scales in I420 when it differs (`scratch` holds the unscaled image).
// False when `size` does not match or a size is out of range.
bool ConvertToI420(const uint8_t* data, size_t size, PixelFormat format, int width, int height,
                   I420Buffer* dst, I420Buffer* scratch);

}  // namespace sw::video
