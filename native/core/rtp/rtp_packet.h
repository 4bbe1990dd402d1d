// RTP packet parsing and building (RFC 3550 section 5.1, header extensions per RFC 8285).
//
// Pure C++ (no napi), allocation-free on the parse path: the parsed header holds offsets into the caller's
// buffer, which must outlive it. Every length read from the packet is checked against the buffer size
// before use; malformed input yields an RtpStatus, never an out-of-bounds read. Thread-agnostic.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace sw::rtp {

inline constexpr size_t kRtpFixedHeaderSize = 12;  // bytes, without CSRCs and extension
inline constexpr size_t kMaxCsrcs = 15;            // the 4-bit CC field
inline constexpr uint16_t kOneByteExtensionProfile = 0xBEDE;
inline constexpr uint16_t kTwoByteExtensionProfile = 0x1000;  // upper 12 bits; low 4 bits are app bits
inline constexpr size_t kMaxExtensions = 32;                  // elements kept per packet (more: error)

enum class RtpStatus : uint8_t {
  kOk = 0,
  kTooShort,             // fewer than 12 bytes
  kBadVersion,           // version field != 2
  kCsrcOverflow,         // CSRC count * 4 runs past the end of the packet
  kExtensionOverflow,    // extension header or its declared length runs past the end of the packet
  kBadPadding,           // padding bit set but padding length is 0 or larger than the room after the header
  kBadExtensionElement,  // an RFC 8285 element's length runs past the extension block
  kTooManyExtensions,    // more than kMaxExtensions elements
  kInvalidArgument,      // build: a field out of range (extension id/length, csrc count, padding)
  kBufferTooSmall,       // build: output capacity too small
};

// Stable, human-readable reason for a status (for error messages).
const char* RtpStatusMessage(RtpStatus status);

// One RFC 8285 header extension element: `offset`/`length` index the packet buffer.
struct ExtensionElement {
  uint8_t id;
  uint8_t length;  // bytes of data (one-byte form: 1..16; two-byte form: 0..255)
  uint32_t offset;
};

struct RtpHeader {
  bool padding = false;
  bool has_extension = false;
  bool marker = false;
  uint8_t payload_type = 0;
  uint16_t sequence_number = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  uint8_t csrc_count = 0;
  std::array<uint32_t, kMaxCsrcs> csrcs{};
  // Header extension block (valid when has_extension): its 16-bit profile and the data that follows the
  // 4-byte extension header (offset into the packet, length in bytes, a multiple of 4).
  uint16_t extension_profile = 0;
  uint32_t extension_offset = 0;
  uint32_t extension_length = 0;
  // Parsed RFC 8285 elements (one-byte 0xBEDE or two-byte 0x100X profiles; none for other profiles).
  uint8_t extension_count = 0;
  std::array<ExtensionElement, kMaxExtensions> extensions{};
  uint32_t header_size = 0;     // bytes before the payload (fixed + CSRCs + extension)
  uint32_t payload_offset = 0;  // == header_size
  uint32_t payload_size = 0;    // bytes, excluding padding
  uint8_t padding_size = 0;     // bytes of padding at the end (incl. the count byte), 0 when no padding
};

// Parses `data[0..size)` into `out`. On error `out` is partially filled and must not be used.
RtpStatus ParseRtp(const uint8_t* data, size_t size, RtpHeader* out);

// Returns the element with `id`, or nullptr.
const ExtensionElement* FindExtension(const RtpHeader& header, uint8_t id);

// One extension element to write: `length` bytes at `data`.
struct ExtensionToWrite {
  uint8_t id;
  const uint8_t* data;
  size_t length;
};

struct RtpBuildParams {
  bool marker = false;
  uint8_t payload_type = 0;  // 0..127
  uint16_t sequence_number = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  const uint32_t* csrcs = nullptr;
  size_t csrc_count = 0;  // <= 15
  // Extensions: written in the one-byte form when every id is 1..14 and every length 1..16, else in the
  // two-byte form (ids 1..255, lengths 0..255). Zero-padded to a 32-bit boundary.
  const ExtensionToWrite* extensions = nullptr;
  size_t extension_count = 0;
  size_t padding_size = 0;  // 0 (none) or 1..255 bytes of padding, the last holding the count
};

// Bytes BuildRtp will write for these params and a payload of `payload_size`, or 0 if params are invalid.
size_t RtpPacketSize(const RtpBuildParams& params, size_t payload_size);

// Writes the packet into `out[0..capacity)`; sets *written. Validates every field first.
RtpStatus BuildRtp(const RtpBuildParams& params, const uint8_t* payload, size_t payload_size, uint8_t* out,
                   size_t capacity, size_t* written);

// RFC 5761 demultiplexing: RTCP packet types 192..223 occupy the second byte where RTP has M+PT.
inline bool LooksLikeRtcp(const uint8_t* data, size_t size) {
  return size >= 2 && (data[0] >> 6) == 2 && data[1] >= 192 && data[1] <= 223;
}

}  // namespace sw::rtp
