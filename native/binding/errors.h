// Typed, coded JS errors and argument validation for the binding layer (JS thread only).
//
// Every wrap validates its arguments with these helpers, so a wrong type or an out-of-range value becomes a
// TypeError/RangeError with a stable `code` property (mirroring src/errors.ts) instead of a crash. Built with
// NAPI_CPP_EXCEPTIONS: the helpers throw Napi::Error, which node-addon-api turns into a JS exception when it
// leaves the callback.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

namespace sw {

// Stable error codes shared with the TS side (src/errors.ts).
inline constexpr const char* kErrInvalidArg = "ERR_INVALID_ARG";
inline constexpr const char* kErrRtpMalformed = "ERR_RTP_MALFORMED";
inline constexpr const char* kErrRtcpMalformed = "ERR_RTCP_MALFORMED";
inline constexpr const char* kErrClosed = "ERR_CLOSED";
inline constexpr const char* kErrCodec = "ERR_CODEC";
inline constexpr const char* kErrBufferTooSmall = "ERR_BUFFER_TOO_SMALL";
inline constexpr const char* kErrVp8Malformed = "ERR_VP8_MALFORMED";

[[noreturn]] inline void ThrowWithCode(Napi::Error error, const char* code) {
  error.Set("code", Napi::String::New(error.Env(), code));
  throw error;
}
[[noreturn]] inline void ThrowError(Napi::Env env, const char* code, const std::string& message) {
  ThrowWithCode(Napi::Error::New(env, message), code);
}
[[noreturn]] inline void ThrowTypeError(Napi::Env env, const char* code, const std::string& message) {
  ThrowWithCode(Napi::TypeError::New(env, message), code);
}
[[noreturn]] inline void ThrowRangeError(Napi::Env env, const char* code, const std::string& message) {
  ThrowWithCode(Napi::RangeError::New(env, message), code);
}
// Methods called after close(): the TS layer normally catches this first.
[[noreturn]] inline void ThrowClosed(Napi::Env env, const std::string& what) {
  ThrowError(env, kErrClosed, what + " is closed");
}

// A read-only view of the bytes of a Uint8Array/Buffer argument (valid while the JS value is alive, i.e.
// for the duration of the call).
struct ByteView {
  const uint8_t* data;
  size_t size;
};

inline ByteView ToBytes(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowTypeError(env, kErrInvalidArg, std::string(name) + " must be a Uint8Array or Buffer");
  }
  Napi::Uint8Array a = v.As<Napi::Uint8Array>();
  return ByteView{a.Data(), a.ByteLength()};
}
inline ByteView ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return ToBytes(info.Env(), info[i], name);
}

// Int16Array argument (interleaved PCM): pointer + element count.
struct Int16View {
  int16_t* data;
  size_t length;
};
inline Int16View ToInt16(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int16_array) {
    ThrowTypeError(env, kErrInvalidArg, std::string(name) + " must be an Int16Array");
  }
  Napi::Int16Array a = v.As<Napi::Int16Array>();
  return Int16View{a.Data(), a.ElementLength()};
}
inline Int16View ArgInt16(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return ToInt16(info.Env(), info[i], name);
}

// A finite number within [min, max].
inline double ToNumber(Napi::Env env, const Napi::Value& v, const char* name, double min, double max) {
  if (!v.IsNumber()) ThrowTypeError(env, kErrInvalidArg, std::string(name) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d < min || d > max) {
    ThrowRangeError(env, kErrInvalidArg,
                    std::string(name) + " must be in [" + std::to_string(min) + ", " + std::to_string(max) +
                        "], got " + std::to_string(d));
  }
  return d;
}
inline double ArgNumber(const Napi::CallbackInfo& info, size_t i, const char* name, double min, double max) {
  return ToNumber(info.Env(), info[i], name, min, max);
}

// An integer within [min, max] (doubles hold every integer up to 2^53, enough for uint32 fields).
inline int64_t ToInteger(Napi::Env env, const Napi::Value& v, const char* name, int64_t min, int64_t max) {
  double d = ToNumber(env, v, name, static_cast<double>(min), static_cast<double>(max));
  if (std::floor(d) != d) ThrowRangeError(env, kErrInvalidArg, std::string(name) + " must be an integer");
  return static_cast<int64_t>(d);
}
inline int64_t ArgInteger(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min,
                          int64_t max) {
  return ToInteger(info.Env(), info[i], name, min, max);
}

inline bool ToBool(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsBoolean()) ThrowTypeError(env, kErrInvalidArg, std::string(name) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

inline Napi::Object ArgObject(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsObject() || info[i].IsArray()) {
    ThrowTypeError(info.Env(), kErrInvalidArg, std::string(name) + " must be an object");
  }
  return info[i].As<Napi::Object>();
}

// Optional fields of an options object: `undefined` (or absent) gives the default.
inline bool HasField(const Napi::Object& o, const char* key) {
  return o.Has(key) && !o.Get(key).IsUndefined();
}
inline int64_t FieldInteger(const Napi::Object& o, const char* key, int64_t def, int64_t min, int64_t max) {
  return HasField(o, key) ? ToInteger(o.Env(), o.Get(key), key, min, max) : def;
}
inline double FieldNumber(const Napi::Object& o, const char* key, double def, double min, double max) {
  return HasField(o, key) ? ToNumber(o.Env(), o.Get(key), key, min, max) : def;
}
inline bool FieldBool(const Napi::Object& o, const char* key, bool def) {
  return HasField(o, key) ? ToBool(o.Env(), o.Get(key), key) : def;
}

}  // namespace sw
