// libFuzzer target: ParseRtcp on arbitrary bytes must never read out of bounds; the packets it returns must
// tile the buffer, and each parsed packet must survive a rebuild through the builders.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/rtp/rtcp.h"

using namespace sw::rtp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<RtcpPacket> pkts;
  const RtcpStatus status = ParseRtcp(data, size, &pkts);
  size_t end = 0;
  for (const auto& p : pkts) {
    if (p.offset != end) std::abort();
    end += p.size;
  }
  if (end > size || (status == RtcpStatus::kOk && end != size)) std::abort();
  std::vector<uint8_t> out;
  for (const auto& p : pkts) {
    if (p.type == kRtcpRr) AppendReceiverReport(&out, p.sender_ssrc, p.report_blocks);
    if (p.type == kRtcpBye) AppendBye(&out, p.bye_ssrcs, p.bye_reason);
    if (p.type == kRtcpRtpfb && p.fmt == kFmtNack && !p.nack_sequence_numbers.empty()) {
      AppendNack(&out, p.sender_ssrc, p.media_ssrc, p.nack_sequence_numbers);
    }
  }
  std::vector<RtcpPacket> again;
  if (!out.empty() && ParseRtcp(out.data(), out.size(), &again) != RtcpStatus::kOk) std::abort();
  return 0;
}
