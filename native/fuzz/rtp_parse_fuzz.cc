// libFuzzer target: ParseRtp on arbitrary bytes must never read out of bounds, and every element it reports
// must lie inside the buffer; a successfully parsed packet must rebuild to one that parses identically.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/rtp/rtp_packet.h"

using namespace sw::rtp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  RtpHeader h;
  if (ParseRtp(data, size, &h) != RtpStatus::kOk) return 0;
  if (size_t{h.payload_offset} + h.payload_size + h.padding_size != size) std::abort();
  ExtensionToWrite ext[kMaxExtensions];
  for (size_t i = 0; i < h.extension_count; ++i) {
    const auto& e = h.extensions[i];
    if (size_t{e.offset} + e.length > size) std::abort();
    ext[i] = ExtensionToWrite{e.id, data + e.offset, e.length};
  }
  RtpBuildParams p;
  p.marker = h.marker;
  p.payload_type = h.payload_type;
  p.sequence_number = h.sequence_number;
  p.timestamp = h.timestamp;
  p.ssrc = h.ssrc;
  p.csrcs = h.csrcs.data();
  p.csrc_count = h.csrc_count;
  p.extensions = ext;
  p.extension_count = h.extension_count;
  p.padding_size = h.padding_size;
  std::vector<uint8_t> out(RtpPacketSize(p, h.payload_size) + 1);
  size_t written = 0;
  if (BuildRtp(p, data + h.payload_offset, h.payload_size, out.data(), out.size(), &written) !=
      RtpStatus::kOk) {
    return 0;  // e.g. an id-0 element cannot be rebuilt; fine
  }
  RtpHeader h2;
  if (ParseRtp(out.data(), written, &h2) != RtpStatus::kOk) std::abort();
  if (h2.sequence_number != h.sequence_number || h2.payload_size != h.payload_size ||
      h2.extension_count != h.extension_count || h2.csrc_count != h.csrc_count) {
    std::abort();
  }
  return 0;
}
