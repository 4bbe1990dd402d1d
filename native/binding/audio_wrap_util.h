// Helpers shared by the audio wraps (opus_wrap.cc, resampler_wrap.cc, audio_*_wrap.cc). JS thread only.
#pragma once

#include <napi.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "binding/errors.h"

namespace sw {

// A new Int16Array holding a copy of `samples` interleaved samples.
inline Napi::Int16Array CopyToInt16Array(Napi::Env env, const int16_t* data, size_t samples) {
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, samples * sizeof(int16_t));
  if (samples > 0) std::memcpy(ab.Data(), data, samples * sizeof(int16_t));
  return Napi::Int16Array::New(env, samples, ab, 0);
}

// A new Uint8Array (Buffer) holding a copy of `len` bytes.
inline Napi::Uint8Array CopyToUint8Array(Napi::Env env, const uint8_t* data, size_t len) {
  return Napi::Buffer<uint8_t>::Copy(env, data, len);
}

// Runs `fn`, turning the core's std::invalid_argument into RangeError ERR_INVALID_ARG and any other
// std::exception into Error ERR_CODEC (Napi::Error passes through untouched).
template <typename Fn>
auto GuardCore(Napi::Env env, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::invalid_argument& e) {
    ThrowRangeError(env, kErrInvalidArg, e.what());
  } catch (const std::exception& e) {
    ThrowError(env, kErrCodec, e.what());
  }
}

// An options object argument, or an empty object when the argument is undefined.
inline Napi::Object OptionsArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || info[i].IsUndefined()) return Napi::Object::New(info.Env());
  return ArgObject(info, i, name);
}

// A required integer field.
inline int64_t RequiredInteger(const Napi::Object& o, const char* key, int64_t min, int64_t max) {
  if (!HasField(o, key)) ThrowTypeError(o.Env(), kErrInvalidArg, std::string(key) + " is required");
  return ToInteger(o.Env(), o.Get(key), key, min, max);
}

}  // namespace sw
