// JS bindings of native/core/rtp (JS thread only): RTP parse/build, RTCP parse/build, and the sequence /
// timestamp unwrappers. Malformed packets throw a RangeError with code ERR_RTP_MALFORMED or
// ERR_RTCP_MALFORMED and a `reason` naming the check that failed; wrong argument types throw TypeError
// ERR_INVALID_ARG. Parsed payloads and extension data are views into the caller's buffer (no copy).
#include <napi.h>

#include <string>
#include <vector>

#include "binding/errors.h"
#include "binding/wraps.h"
#include "core/rtp/rtcp.h"
#include "core/rtp/rtp_packet.h"
#include "core/rtp/unwrapper.h"

namespace sw {
namespace {

using rtp::RtcpStatus;
using rtp::RtpStatus;

const char* RtpReason(RtpStatus s) {
  switch (s) {
    case RtpStatus::kTooShort:
      return "too-short";
    case RtpStatus::kBadVersion:
      return "bad-version";
    case RtpStatus::kCsrcOverflow:
      return "csrc-overflow";
    case RtpStatus::kExtensionOverflow:
      return "extension-overflow";
    case RtpStatus::kBadPadding:
      return "bad-padding";
    case RtpStatus::kBadExtensionElement:
      return "bad-extension-element";
    case RtpStatus::kTooManyExtensions:
      return "too-many-extensions";
    default:
      return "invalid";
  }
}

const char* RtcpReason(RtcpStatus s) {
  switch (s) {
    case RtcpStatus::kEmpty:
      return "empty";
    case RtcpStatus::kTooShort:
      return "too-short";
    case RtcpStatus::kBadVersion:
      return "bad-version";
    case RtcpStatus::kLengthOverflow:
      return "length-overflow";
    case RtcpStatus::kBadPadding:
      return "bad-padding";
    case RtcpStatus::kBodyTooShort:
      return "body-too-short";
    default:
      return "invalid";
  }
}

[[noreturn]] void ThrowMalformed(Napi::Env env, const char* code, const std::string& message,
                                 const char* reason) {
  Napi::Error e = Napi::RangeError::New(env, message);
  e.Set("reason", Napi::String::New(env, reason));
  ThrowWithCode(e, code);
}

// Layout of the Uint32Array parseRtpInto() fills (mirrored by src/media/rtp.ts). Returning numbers in a
// caller-owned array and building the JS object in JS avoids ~20 napi property sets per call (each creates
// and internalizes a key string): ~0.3 us per packet instead of ~2.3 us.
enum RtpField : uint32_t {
  kFlags = 0,  // bit 0 padding, bit 1 marker, bit 2 has extension
  kPayloadType,
  kSequence,
  kTimestamp,
  kSsrc,
  kHeaderSize,
  kPaddingSize,
  kPayloadOffset,
  kPayloadSize,
  kExtensionProfile,
  kCsrcCount,
  kExtensionCount,
  kCsrcs,                                 // 15 entries
  kExtensions = kCsrcs + rtp::kMaxCsrcs,  // (id, offset, length) per element
  kRtpFieldCount = kExtensions + 3 * rtp::kMaxExtensions,
};

// parseRtpInto(packet: Uint8Array, out: Uint32Array(>= kRtpFieldCount)): undefined; throws when malformed.
Napi::Value ParseRtpIntoJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ByteView bytes = ArgBytes(info, 0, "packet");
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
      info[1].As<Napi::Uint32Array>().ElementLength() < kRtpFieldCount) {
    ThrowTypeError(env, kErrInvalidArg,
                   "out must be a Uint32Array of at least " + std::to_string(kRtpFieldCount) + " elements");
  }
  uint32_t* o = info[1].As<Napi::Uint32Array>().Data();
  rtp::RtpHeader h;
  RtpStatus s = rtp::ParseRtp(bytes.data, bytes.size, &h);
  if (s != RtpStatus::kOk) {
    ThrowMalformed(env, kErrRtpMalformed, std::string("malformed RTP packet: ") + rtp::RtpStatusMessage(s),
                   RtpReason(s));
  }
  o[kFlags] = (h.padding ? 1u : 0u) | (h.marker ? 2u : 0u) | (h.has_extension ? 4u : 0u);
  o[kPayloadType] = h.payload_type;
  o[kSequence] = h.sequence_number;
  o[kTimestamp] = h.timestamp;
  o[kSsrc] = h.ssrc;
  o[kHeaderSize] = h.header_size;
  o[kPaddingSize] = h.padding_size;
  o[kPayloadOffset] = h.payload_offset;
  o[kPayloadSize] = h.payload_size;
  o[kExtensionProfile] = h.extension_profile;
  o[kCsrcCount] = h.csrc_count;
  o[kExtensionCount] = h.extension_count;
  for (uint32_t i = 0; i < h.csrc_count; ++i) o[kCsrcs + i] = h.csrcs[i];
  for (uint32_t i = 0; i < h.extension_count; ++i) {
    o[kExtensions + 3 * i] = h.extensions[i].id;
    o[kExtensions + 3 * i + 1] = h.extensions[i].offset;
    o[kExtensions + 3 * i + 2] = h.extensions[i].length;
  }
  return env.Undefined();
}

uint32_t FieldU32(const Napi::Object& o, const char* key, uint32_t def) {
  return static_cast<uint32_t>(FieldInteger(o, key, def, 0, 0xFFFFFFFFll));
}
uint32_t RequiredU32(const Napi::Object& o, const char* key, int64_t max = 0xFFFFFFFFll) {
  if (!HasField(o, key)) ThrowTypeError(o.Env(), kErrInvalidArg, std::string(key) + " is required");
  return static_cast<uint32_t>(ToInteger(o.Env(), o.Get(key), key, 0, max));
}
Napi::Array FieldArray(const Napi::Object& o, const char* key, bool required) {
  if (!HasField(o, key)) {
    if (required) ThrowTypeError(o.Env(), kErrInvalidArg, std::string(key) + " is required");
    return Napi::Array::New(o.Env(), 0);
  }
  Napi::Value v = o.Get(key);
  if (!v.IsArray()) ThrowTypeError(o.Env(), kErrInvalidArg, std::string(key) + " must be an array");
  return v.As<Napi::Array>();
}

Napi::Value BuildRtpJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = ArgObject(info, 0, "packet");
  rtp::RtpBuildParams p;
  p.payload_type = static_cast<uint8_t>(RequiredU32(o, "payloadType", 127));
  p.sequence_number = static_cast<uint16_t>(RequiredU32(o, "sequenceNumber", 0xFFFF));
  p.timestamp = RequiredU32(o, "timestamp");
  p.ssrc = RequiredU32(o, "ssrc");
  p.marker = FieldBool(o, "marker", false);
  p.padding_size = static_cast<size_t>(FieldInteger(o, "paddingSize", 0, 0, 255));
  Napi::Array csrc_arr = FieldArray(o, "csrcs", false);
  if (csrc_arr.Length() > rtp::kMaxCsrcs) ThrowRangeError(env, kErrInvalidArg, "csrcs: at most 15 entries");
  uint32_t csrcs[rtp::kMaxCsrcs];
  for (uint32_t i = 0; i < csrc_arr.Length(); ++i) {
    csrcs[i] = static_cast<uint32_t>(ToInteger(env, csrc_arr.Get(i), "csrcs[]", 0, 0xFFFFFFFFll));
  }
  p.csrcs = csrcs;
  p.csrc_count = csrc_arr.Length();
  Napi::Array ext_arr = FieldArray(o, "extensions", false);
  if (ext_arr.Length() > rtp::kMaxExtensions) {
    ThrowRangeError(env, kErrInvalidArg, "extensions: at most 32 entries");
  }
  rtp::ExtensionToWrite exts[rtp::kMaxExtensions];
  for (uint32_t i = 0; i < ext_arr.Length(); ++i) {
    Napi::Value ev = ext_arr.Get(i);
    if (!ev.IsObject()) ThrowTypeError(env, kErrInvalidArg, "extensions[] must be {id, data} objects");
    Napi::Object e = ev.As<Napi::Object>();
    const auto id = static_cast<uint8_t>(ToInteger(env, e.Get("id"), "extensions[].id", 1, 255));
    ByteView d = ToBytes(env, e.Get("data"), "extensions[].data");
    if (d.size > 255) ThrowRangeError(env, kErrInvalidArg, "extensions[].data: at most 255 bytes");
    exts[i] = rtp::ExtensionToWrite{id, d.data, d.size};
  }
  p.extensions = exts;
  p.extension_count = ext_arr.Length();
  ByteView payload{nullptr, 0};
  if (HasField(o, "payload")) payload = ToBytes(env, o.Get("payload"), "payload");
  const size_t size = rtp::RtpPacketSize(p, payload.size);
  if (size == 0) ThrowRangeError(env, kErrInvalidArg, "invalid RTP field value");
  Napi::Uint8Array out = Napi::Uint8Array::New(env, size);
  size_t written = 0;
  RtpStatus s = rtp::BuildRtp(p, payload.data, payload.size, out.Data(), size, &written);
  if (s != RtpStatus::kOk) ThrowRangeError(env, kErrInvalidArg, rtp::RtpStatusMessage(s));
  return out;
}

Napi::Object ReportBlockToJs(Napi::Env env, const rtp::ReportBlock& b) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("ssrc", Napi::Number::New(env, b.ssrc));
  o.Set("fractionLost", Napi::Number::New(env, b.fraction_lost));
  o.Set("cumulativeLost", Napi::Number::New(env, b.cumulative_lost));
  o.Set("extendedHighestSequenceNumber", Napi::Number::New(env, b.extended_highest_seq));
  o.Set("jitter", Napi::Number::New(env, b.jitter));
  o.Set("lastSenderReport", Napi::Number::New(env, b.last_sr));
  o.Set("delaySinceLastSenderReport", Napi::Number::New(env, b.delay_since_last_sr));
  return o;
}

Napi::Array ReportBlocksToJs(Napi::Env env, const std::vector<rtp::ReportBlock>& blocks) {
  Napi::Array a = Napi::Array::New(env, blocks.size());
  for (uint32_t i = 0; i < blocks.size(); ++i) a.Set(i, ReportBlockToJs(env, blocks[i]));
  return a;
}

Napi::Value ParseRtcpJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ByteView bytes = ArgBytes(info, 0, "packet");
  std::vector<rtp::RtcpPacket> pkts;
  RtcpStatus s = rtp::ParseRtcp(bytes.data, bytes.size, &pkts);
  if (s != RtcpStatus::kOk) {
    ThrowMalformed(env, kErrRtcpMalformed, std::string("malformed RTCP packet: ") + rtp::RtcpStatusMessage(s),
                   RtcpReason(s));
  }
  Napi::Array out = Napi::Array::New(env, pkts.size());
  for (uint32_t i = 0; i < pkts.size(); ++i) {
    const auto& p = pkts[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("packetType", Napi::Number::New(env, p.type));
    o.Set("fmt", Napi::Number::New(env, p.fmt));
    o.Set("offset", Napi::Number::New(env, p.offset));
    o.Set("size", Napi::Number::New(env, p.size));
    if (p.type == rtp::kRtcpSr) {
      o.Set("kind", "sr");
      o.Set("senderSsrc", Napi::Number::New(env, p.sender_ssrc));
      o.Set("ntpSeconds", Napi::Number::New(env, p.ntp_seconds));
      o.Set("ntpFraction", Napi::Number::New(env, p.ntp_fraction));
      o.Set("rtpTimestamp", Napi::Number::New(env, p.rtp_timestamp));
      o.Set("packetCount", Napi::Number::New(env, p.packet_count));
      o.Set("octetCount", Napi::Number::New(env, p.octet_count));
      o.Set("reports", ReportBlocksToJs(env, p.report_blocks));
    } else if (p.type == rtp::kRtcpRr) {
      o.Set("kind", "rr");
      o.Set("senderSsrc", Napi::Number::New(env, p.sender_ssrc));
      o.Set("reports", ReportBlocksToJs(env, p.report_blocks));
    } else if (p.type == rtp::kRtcpBye) {
      o.Set("kind", "bye");
      Napi::Array ssrcs = Napi::Array::New(env, p.bye_ssrcs.size());
      for (uint32_t j = 0; j < p.bye_ssrcs.size(); ++j) ssrcs.Set(j, Napi::Number::New(env, p.bye_ssrcs[j]));
      o.Set("ssrcs", ssrcs);
      o.Set("reason", Napi::String::New(env, p.bye_reason));
    } else if ((p.type == rtp::kRtcpRtpfb && p.fmt == rtp::kFmtNack) ||
               (p.type == rtp::kRtcpPsfb && p.fmt == rtp::kFmtPli)) {
      const bool nack = p.type == rtp::kRtcpRtpfb;
      o.Set("kind", nack ? "nack" : "pli");
      o.Set("senderSsrc", Napi::Number::New(env, p.sender_ssrc));
      o.Set("mediaSsrc", Napi::Number::New(env, p.media_ssrc));
      if (nack) {
        Napi::Array seqs = Napi::Array::New(env, p.nack_sequence_numbers.size());
        for (uint32_t j = 0; j < p.nack_sequence_numbers.size(); ++j) {
          seqs.Set(j, Napi::Number::New(env, p.nack_sequence_numbers[j]));
        }
        o.Set("sequenceNumbers", seqs);
      }
    } else {
      o.Set("kind", "other");
    }
    out.Set(i, o);
  }
  return out;
}

rtp::ReportBlock ReportBlockFromJs(Napi::Env env, const Napi::Value& v) {
  if (!v.IsObject()) ThrowTypeError(env, kErrInvalidArg, "reports[] must be objects");
  Napi::Object o = v.As<Napi::Object>();
  rtp::ReportBlock b;
  b.ssrc = RequiredU32(o, "ssrc");
  b.fraction_lost = static_cast<uint8_t>(FieldInteger(o, "fractionLost", 0, 0, 255));
  b.cumulative_lost = static_cast<int32_t>(FieldInteger(o, "cumulativeLost", 0, -0x800000, 0x7FFFFF));
  b.extended_highest_seq = FieldU32(o, "extendedHighestSequenceNumber", 0);
  b.jitter = FieldU32(o, "jitter", 0);
  b.last_sr = FieldU32(o, "lastSenderReport", 0);
  b.delay_since_last_sr = FieldU32(o, "delaySinceLastSenderReport", 0);
  return b;
}

std::vector<rtp::ReportBlock> ReportBlocksFromJs(const Napi::Object& o) {
  Napi::Array a = FieldArray(o, "reports", false);
  if (a.Length() > 31) ThrowRangeError(o.Env(), kErrInvalidArg, "reports: at most 31 entries");
  std::vector<rtp::ReportBlock> blocks;
  for (uint32_t i = 0; i < a.Length(); ++i) blocks.push_back(ReportBlockFromJs(o.Env(), a.Get(i)));
  return blocks;
}

Napi::Value ToUint8Array(Napi::Env env, const std::vector<uint8_t>& bytes) {
  Napi::Uint8Array out = Napi::Uint8Array::New(env, bytes.size());
  if (!bytes.empty()) std::copy(bytes.begin(), bytes.end(), out.Data());
  return out;
}

void CheckBuilt(Napi::Env env, RtcpStatus s) {
  if (s != RtcpStatus::kOk) ThrowRangeError(env, kErrInvalidArg, rtp::RtcpStatusMessage(s));
}

Napi::Value BuildSrJs(const Napi::CallbackInfo& info) {
  Napi::Object o = ArgObject(info, 0, "report");
  std::vector<uint8_t> buf;
  CheckBuilt(info.Env(),
             rtp::AppendSenderReport(&buf, RequiredU32(o, "senderSsrc"), RequiredU32(o, "ntpSeconds"),
                                     RequiredU32(o, "ntpFraction"), RequiredU32(o, "rtpTimestamp"),
                                     RequiredU32(o, "packetCount"), RequiredU32(o, "octetCount"),
                                     ReportBlocksFromJs(o)));
  return ToUint8Array(info.Env(), buf);
}

Napi::Value BuildRrJs(const Napi::CallbackInfo& info) {
  Napi::Object o = ArgObject(info, 0, "report");
  std::vector<uint8_t> buf;
  CheckBuilt(info.Env(),
             rtp::AppendReceiverReport(&buf, RequiredU32(o, "senderSsrc"), ReportBlocksFromJs(o)));
  return ToUint8Array(info.Env(), buf);
}

Napi::Value BuildNackJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = ArgObject(info, 0, "nack");
  Napi::Array a = FieldArray(o, "sequenceNumbers", true);
  if (a.Length() == 0 || a.Length() > 0x7FFF) {
    ThrowRangeError(env, kErrInvalidArg, "sequenceNumbers: 1 to 32767 entries");
  }
  std::vector<uint16_t> seqs;
  seqs.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) {
    seqs.push_back(static_cast<uint16_t>(ToInteger(env, a.Get(i), "sequenceNumbers[]", 0, 0xFFFF)));
  }
  std::vector<uint8_t> buf;
  CheckBuilt(env, rtp::AppendNack(&buf, RequiredU32(o, "senderSsrc"), RequiredU32(o, "mediaSsrc"), seqs));
  return ToUint8Array(env, buf);
}

Napi::Value BuildPliJs(const Napi::CallbackInfo& info) {
  Napi::Object o = ArgObject(info, 0, "pli");
  std::vector<uint8_t> buf;
  CheckBuilt(info.Env(), rtp::AppendPli(&buf, RequiredU32(o, "senderSsrc"), RequiredU32(o, "mediaSsrc")));
  return ToUint8Array(info.Env(), buf);
}

Napi::Value BuildByeJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = ArgObject(info, 0, "bye");
  Napi::Array a = FieldArray(o, "ssrcs", true);
  if (a.Length() > 31) ThrowRangeError(env, kErrInvalidArg, "ssrcs: at most 31 entries");
  std::vector<uint32_t> ssrcs;
  for (uint32_t i = 0; i < a.Length(); ++i) {
    ssrcs.push_back(static_cast<uint32_t>(ToInteger(env, a.Get(i), "ssrcs[]", 0, 0xFFFFFFFFll)));
  }
  std::string reason;
  if (HasField(o, "reason")) {
    if (!o.Get("reason").IsString()) ThrowTypeError(env, kErrInvalidArg, "reason must be a string");
    reason = o.Get("reason").As<Napi::String>().Utf8Value();
    if (reason.size() > 255) ThrowRangeError(env, kErrInvalidArg, "reason: at most 255 UTF-8 bytes");
  }
  std::vector<uint8_t> buf;
  CheckBuilt(env, rtp::AppendBye(&buf, ssrcs, reason));
  return ToUint8Array(env, buf);
}

// SequenceUnwrapper / TimestampUnwrapper: one JS class per core class; unwrap(value) -> number (integer).
template <typename Core, int64_t kMax>
class UnwrapperWrap : public Napi::ObjectWrap<UnwrapperWrap<Core, kMax>> {
 public:
  static Napi::Function Define(Napi::Env env, const char* name) {
    return UnwrapperWrap::DefineClass(env, name,
                                      {
                                          UnwrapperWrap::InstanceMethod("unwrap", &UnwrapperWrap::UnwrapJs),
                                          UnwrapperWrap::InstanceMethod("reset", &UnwrapperWrap::ResetJs),
                                      });
  }
  explicit UnwrapperWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<UnwrapperWrap>(info) {}

 private:
  Napi::Value UnwrapJs(const Napi::CallbackInfo& info) {
    const int64_t v = ArgInteger(info, 0, "value", 0, kMax);
    return Napi::Number::New(info.Env(), static_cast<double>(core_.Unwrap(static_cast<uint64_t>(v))));
  }
  Napi::Value ResetJs(const Napi::CallbackInfo& info) {
    core_.Reset();
    return info.Env().Undefined();
  }
  Core core_;
};

}  // namespace

void InitRtp(Napi::Env env, Napi::Object exports) {
  exports.Set("parseRtpInto", Napi::Function::New(env, ParseRtpIntoJs, "parseRtpInto"));
  exports.Set("RTP_FIELD_COUNT", Napi::Number::New(env, kRtpFieldCount));
  exports.Set("buildRtp", Napi::Function::New(env, BuildRtpJs, "buildRtp"));
  exports.Set("parseRtcp", Napi::Function::New(env, ParseRtcpJs, "parseRtcp"));
  exports.Set("buildRtcpSr", Napi::Function::New(env, BuildSrJs, "buildRtcpSr"));
  exports.Set("buildRtcpRr", Napi::Function::New(env, BuildRrJs, "buildRtcpRr"));
  exports.Set("buildRtcpNack", Napi::Function::New(env, BuildNackJs, "buildRtcpNack"));
  exports.Set("buildRtcpPli", Napi::Function::New(env, BuildPliJs, "buildRtcpPli"));
  exports.Set("buildRtcpBye", Napi::Function::New(env, BuildByeJs, "buildRtcpBye"));
  exports.Set("SequenceUnwrapper",
              UnwrapperWrap<rtp::SequenceUnwrapper, 0xFFFF>::Define(env, "SequenceUnwrapper"));
  exports.Set("TimestampUnwrapper",
              UnwrapperWrap<rtp::TimestampUnwrapper, 0xFFFFFFFFll>::Define(env, "TimestampUnwrapper"));
}

}  // namespace sw
