// VP8 RTP packetizer (RFC 7741): one encoded frame -> RTP packets that each fit the MTU (1200 bytes by
// default, RTP header and header extensions included). Every packet carries an extended payload descriptor
// with a 15-bit picture ID that increments once per frame; the first packet has S=1, PID=0; the last one
// carries the marker bit. The frame is split into packets of nearly equal size (they differ by at most one
// byte), so no tiny tail packet is sent.
//
// Pure C++17, synchronous, not thread-safe (one owner thread). Sequence numbers continue across frames.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/video/vp8_payload.h"

namespace sw::video {

inline constexpr size_t kDefaultVideoMtu = 1200;           // bytes of RTP (header + extensions + payload)
inline constexpr size_t kVp8PacketizerDescriptorSize = 4;  // X, I with M: 1 + 1 + 2 bytes

struct Vp8PacketizerOptions {
  uint32_t ssrc = 0;
  uint8_t payload_type = 96;  // 0..127
  uint16_t initial_sequence = 0;
  uint16_t initial_picture_id = 0;  // 0..32767
  size_t mtu = kDefaultVideoMtu;    // 64..65507 bytes
  int mid_extension_id = 0;         // 1..14 to send the sdes:mid one-byte header extension, 0 for none
  std::string mid;                  // 1..16 bytes when mid_extension_id != 0
};

struct Vp8PacketizerStats {
  uint64_t frames = 0;
  uint64_t packets = 0;
  uint64_t payload_bytes = 0;  // VP8 bytes (without RTP headers and descriptors)
};

class Vp8Packetizer {
 public:
  // Throws std::invalid_argument for options out of range (payload type, picture ID, mid, an MTU with no
  // room for payload).
  explicit Vp8Packetizer(const Vp8PacketizerOptions& options);

  // Appends the packets of one frame (RTP `timestamp`, 90 kHz) to *out, one vector per datagram.
  // kInvalidArgument for an empty frame; the sequence number and picture ID advance only on success.
  Vp8Status Packetize(const uint8_t* frame, size_t size, uint32_t timestamp,
                      std::vector<std::vector<uint8_t>>* out);

  // Throws std::invalid_argument like the constructor; id 0 removes the extension.
  void SetMidExtension(int id, const std::string& mid);
  void SetSsrc(uint32_t ssrc) { o_.ssrc = ssrc; }
  void SetPayloadType(uint8_t pt);

  // VP8 bytes one packet can hold with the current header.
  size_t MaxPayloadPerPacket() const;
  uint16_t next_sequence() const { return seq_; }
  uint16_t picture_id() const { return picture_id_; }
  const Vp8PacketizerOptions& options() const { return o_; }
  const Vp8PacketizerStats& stats() const { return stats_; }

 private:
  size_t HeaderSize() const;
  Vp8PacketizerOptions o_;
  uint16_t seq_;
  uint16_t picture_id_;
  Vp8PacketizerStats stats_;
};

}  // namespace sw::video
