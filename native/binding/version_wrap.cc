// version(): the versions of the addon and of the codec libraries it was linked against. Also the cheapest
// proof that the addon loads and its codec libraries resolve (static or shared).
#include <napi.h>
#include <opus.h>
#include <vpx/vpx_codec.h>

#include "binding/wraps.h"

namespace sw {
namespace {

Napi::Value Version(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("napi", Napi::Number::New(env, NAPI_VERSION));
  o.Set("opus", Napi::String::New(env, opus_get_version_string()));
  o.Set("vpx", Napi::String::New(env, vpx_codec_version_str()));
#ifdef SMALL_WEBRTC_STATIC
  o.Set("staticCodecs", Napi::Boolean::New(env, true));
#else
  o.Set("staticCodecs", Napi::Boolean::New(env, false));
#endif
  return o;
}

}  // namespace

void InitVersion(Napi::Env env, Napi::Object exports) {
  exports.Set("version", Napi::Function::New(env, Version, "version"));
}

}  // namespace sw
