// The VP8 RTP payload format (RFC 7741): the payload descriptor that starts every RTP payload, and the
// first bytes of the VP8 frame itself (RFC 6386 section 9.1), which say whether a frame is a keyframe and,
// for a keyframe, its size.
//
// Pure C++17, no allocation, thread-agnostic. Every field is read only after checking that its byte is
// present: a truncated or inconsistent descriptor yields a Vp8Status, never an out-of-bounds read.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sw::video {

enum class Vp8Status : uint8_t {
  kOk = 0,
  kEmptyPayload,          // the RTP payload has no bytes
  kTruncatedDescriptor,   // an X/I/M/L/T/K flag announces a byte that is not there
  kNoVp8Data,             // the descriptor uses up the whole payload (nothing of the frame itself)
  kTruncatedFrameHeader,  // the first packet of a frame holds fewer than 3 bytes (10 for a keyframe)
  kBadKeyframeStartCode,  // a keyframe without the 0x9d 0x01 0x2a start code
  kBadKeyframeSize,       // a keyframe announcing a width or height of 0
  kNotRtp,                // the packet is not a valid RTP packet
  kPayloadTypeMismatch,   // the RTP payload type is not the one this depacketizer was built for
  kFrameTooLarge,         // a frame would grow past the configured byte or packet limit
  kInvalidArgument,       // builder: a field out of range
  kBufferTooSmall,        // builder: output capacity too small
};

// Stable, human-readable reason for a status (used in error messages).
const char* Vp8StatusMessage(Vp8Status status);
// Stable machine-readable name of a status (e.g. "truncated-descriptor"), used as the error's `reason`.
const char* Vp8StatusReason(Vp8Status status);

// RFC 7741 section 4.2. Optional fields are present when their `has_` flag is set.
struct Vp8Descriptor {
  bool non_reference = false;       // N: the frame can be discarded without affecting other frames
  bool start_of_partition = false;  // S
  uint8_t partition_index = 0;      // PID, 0..7
  bool has_picture_id = false;      // I
  bool long_picture_id = false;     // M: 15-bit picture ID (else 7-bit)
  uint16_t picture_id = 0;          // 7 or 15 bits
  bool has_tl0_pic_idx = false;     // L
  uint8_t tl0_pic_idx = 0;
  bool has_tid = false;      // T
  uint8_t tid = 0;           // 2 bits
  bool layer_sync = false;   // Y (meaningful with T)
  bool has_key_idx = false;  // K
  uint8_t key_idx = 0;       // 5 bits
  uint32_t size = 0;         // descriptor bytes; the VP8 data starts at payload + size

  // The first packet of a frame: S set and partition 0.
  bool IsFrameStart() const { return start_of_partition && partition_index == 0; }
};

// Parses the descriptor at the start of an RTP payload. kOk only when at least one byte of VP8 data
// follows it.
Vp8Status ParseVp8Descriptor(const uint8_t* payload, size_t size, Vp8Descriptor* out);

// Bytes WriteVp8Descriptor writes for `d` (1..6).
size_t Vp8DescriptorSize(const Vp8Descriptor& d);
// Writes `d` (ignoring d.size) into out[0..capacity); sets *written. Validates ranges (PID <= 7, a 7-bit
// picture ID < 128, a 15-bit one < 32768, TID <= 3, KEYIDX <= 31).
Vp8Status WriteVp8Descriptor(const Vp8Descriptor& d, uint8_t* out, size_t capacity, size_t* written);

// RFC 6386 section 9.1: the 3-byte frame tag, plus the 7-byte keyframe header when it is a keyframe.
struct Vp8FrameHeader {
  bool keyframe = false;
  bool show_frame = false;
  uint8_t version = 0;                // 0..3 (profile)
  uint32_t first_partition_size = 0;  // bytes
  uint16_t width = 0;                 // keyframes only, 14 bits, pixels
  uint16_t height = 0;                // keyframes only
  uint8_t horizontal_scale = 0;       // keyframes only, 2 bits
  uint8_t vertical_scale = 0;
};

// Parses the frame tag at the start of a frame's VP8 data (the bytes after the first packet's descriptor).
Vp8Status ParseVp8FrameHeader(const uint8_t* data, size_t size, Vp8FrameHeader* out);

}  // namespace sw::video
