#include "core/video/vp8_payload.h"

namespace sw::video {

const char* Vp8StatusMessage(Vp8Status status) {
  switch (status) {
    case Vp8Status::kOk:
      return "ok";
    case Vp8Status::kEmptyPayload:
      return "empty VP8 RTP payload";
    case Vp8Status::kTruncatedDescriptor:
      return "VP8 payload descriptor announces more bytes than the payload holds";
    case Vp8Status::kNoVp8Data:
      return "VP8 payload holds a descriptor but no frame data";
    case Vp8Status::kTruncatedFrameHeader:
      return "first packet of a VP8 frame is too short for the frame header";
    case Vp8Status::kBadKeyframeStartCode:
      return "VP8 keyframe without the 9d 01 2a start code";
    case Vp8Status::kBadKeyframeSize:
      return "VP8 keyframe with a zero width or height";
    case Vp8Status::kNotRtp:
      return "not a valid RTP packet";
    case Vp8Status::kPayloadTypeMismatch:
      return "RTP payload type is not the VP8 payload type";
    case Vp8Status::kFrameTooLarge:
      return "VP8 frame exceeds the configured size limit";
    case Vp8Status::kInvalidArgument:
      return "invalid argument";
    case Vp8Status::kBufferTooSmall:
      return "output buffer too small";
  }
  return "unknown";
}

const char* Vp8StatusReason(Vp8Status status) {
  switch (status) {
    case Vp8Status::kOk:
      return "ok";
    case Vp8Status::kEmptyPayload:
      return "empty-payload";
    case Vp8Status::kTruncatedDescriptor:
      return "truncated-descriptor";
    case Vp8Status::kNoVp8Data:
      return "no-vp8-data";
    case Vp8Status::kTruncatedFrameHeader:
      return "truncated-frame-header";
    case Vp8Status::kBadKeyframeStartCode:
      return "bad-keyframe-start-code";
    case Vp8Status::kBadKeyframeSize:
      return "bad-keyframe-size";
    case Vp8Status::kNotRtp:
      return "not-rtp";
    case Vp8Status::kPayloadTypeMismatch:
      return "payload-type-mismatch";
    case Vp8Status::kFrameTooLarge:
      return "frame-too-large";
    case Vp8Status::kInvalidArgument:
      return "invalid-argument";
    case Vp8Status::kBufferTooSmall:
      return "buffer-too-small";
  }
  return "unknown";
}

Vp8Status ParseVp8Descriptor(const uint8_t* payload, size_t size, Vp8Descriptor* out) {
  if (size == 0) return Vp8Status::kEmptyPayload;
  Vp8Descriptor d;
  size_t pos = 0;
  const uint8_t b0 = payload[pos++];
  const bool extended = (b0 & 0x80) != 0;
  d.non_reference = (b0 & 0x20) != 0;
  d.start_of_partition = (b0 & 0x10) != 0;
  d.partition_index = b0 & 0x07;
  if (extended) {
    if (pos >= size) return Vp8Status::kTruncatedDescriptor;
    const uint8_t x = payload[pos++];
    d.has_picture_id = (x & 0x80) != 0;
    d.has_tl0_pic_idx = (x & 0x40) != 0;
    d.has_tid = (x & 0x20) != 0;
    d.has_key_idx = (x & 0x10) != 0;
    if (d.has_picture_id) {
      if (pos >= size) return Vp8Status::kTruncatedDescriptor;
      const uint8_t p0 = payload[pos++];
      d.long_picture_id = (p0 & 0x80) != 0;
      if (d.long_picture_id) {
        if (pos >= size) return Vp8Status::kTruncatedDescriptor;
        d.picture_id = static_cast<uint16_t>(((p0 & 0x7F) << 8) | payload[pos++]);
      } else {
        d.picture_id = p0 & 0x7F;
      }
    }
    if (d.has_tl0_pic_idx) {
      if (pos >= size) return Vp8Status::kTruncatedDescriptor;
      d.tl0_pic_idx = payload[pos++];
    }
    // T and K share one byte (RFC 7741: present when either is set).
    if (d.has_tid || d.has_key_idx) {
      if (pos >= size) return Vp8Status::kTruncatedDescriptor;
      const uint8_t tk = payload[pos++];
      if (d.has_tid) {
        d.tid = static_cast<uint8_t>(tk >> 6);
        d.layer_sync = (tk & 0x20) != 0;
      }
      if (d.has_key_idx) d.key_idx = tk & 0x1F;
    }
  }
  if (pos >= size) return Vp8Status::kNoVp8Data;
  d.size = static_cast<uint32_t>(pos);
  *out = d;
  return Vp8Status::kOk;
}

size_t Vp8DescriptorSize(const Vp8Descriptor& d) {
  const bool extended = d.has_picture_id || d.has_tl0_pic_idx || d.has_tid || d.has_key_idx;
  if (!extended) return 1;
  size_t n = 2;
  if (d.has_picture_id) n += d.long_picture_id ? 2 : 1;
  if (d.has_tl0_pic_idx) n += 1;
  if (d.has_tid || d.has_key_idx) n += 1;
  return n;
}

Vp8Status WriteVp8Descriptor(const Vp8Descriptor& d, uint8_t* out, size_t capacity, size_t* written) {
  if (d.partition_index > 7 || d.tid > 3 || d.key_idx > 31) return Vp8Status::kInvalidArgument;
  if (d.has_picture_id && d.picture_id >= (d.long_picture_id ? 0x8000 : 0x80)) {
    return Vp8Status::kInvalidArgument;
  }
  const size_t n = Vp8DescriptorSize(d);
  if (capacity < n) return Vp8Status::kBufferTooSmall;
  const bool extended = n > 1;
  size_t pos = 0;
  out[pos++] = static_cast<uint8_t>((extended ? 0x80 : 0) | (d.non_reference ? 0x20 : 0) |
                                    (d.start_of_partition ? 0x10 : 0) | d.partition_index);
  if (extended) {
    out[pos++] = static_cast<uint8_t>((d.has_picture_id ? 0x80 : 0) | (d.has_tl0_pic_idx ? 0x40 : 0) |
                                      (d.has_tid ? 0x20 : 0) | (d.has_key_idx ? 0x10 : 0));
    if (d.has_picture_id) {
      if (d.long_picture_id) {
        out[pos++] = static_cast<uint8_t>(0x80 | (d.picture_id >> 8));
        out[pos++] = static_cast<uint8_t>(d.picture_id & 0xFF);
      } else {
        out[pos++] = static_cast<uint8_t>(d.picture_id);
      }
    }
    if (d.has_tl0_pic_idx) out[pos++] = d.tl0_pic_idx;
    if (d.has_tid || d.has_key_idx) {
      out[pos++] = static_cast<uint8_t>((d.has_tid ? (d.tid << 6) | (d.layer_sync ? 0x20 : 0) : 0) |
                                        (d.has_key_idx ? d.key_idx : 0));
    }
  }
  *written = pos;
  return Vp8Status::kOk;
}

Vp8Status ParseVp8FrameHeader(const uint8_t* data, size_t size, Vp8FrameHeader* out) {
  if (size < 3) return Vp8Status::kTruncatedFrameHeader;
  Vp8FrameHeader h;
  // Frame tag, little endian: bit 0 = !keyframe, bits 1-3 version, bit 4 show_frame, bits 5-23 size.
  const uint32_t tag = static_cast<uint32_t>(data[0]) | (static_cast<uint32_t>(data[1]) << 8) |
                       (static_cast<uint32_t>(data[2]) << 16);
  h.keyframe = (tag & 1) == 0;
  h.version = static_cast<uint8_t>((tag >> 1) & 7);
  h.show_frame = ((tag >> 4) & 1) != 0;
  h.first_partition_size = tag >> 5;
  if (h.keyframe) {
    if (size < 10) return Vp8Status::kTruncatedFrameHeader;
    if (data[3] != 0x9d || data[4] != 0x01 || data[5] != 0x2a) return Vp8Status::kBadKeyframeStartCode;
    const uint16_t w = static_cast<uint16_t>(data[6] | (data[7] << 8));
    const uint16_t hh = static_cast<uint16_t>(data[8] | (data[9] << 8));
    h.width = w & 0x3FFF;
    h.horizontal_scale = static_cast<uint8_t>(w >> 14);
    h.height = hh & 0x3FFF;
    h.vertical_scale = static_cast<uint8_t>(hh >> 14);
    if (h.width == 0 || h.height == 0) return Vp8Status::kBadKeyframeSize;
  }
  *out = h;
  return Vp8Status::kOk;
}

}  // namespace sw::video
