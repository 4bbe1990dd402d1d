// Module entry point of the small_webrtc addon (loaded only by src/native/binding.ts).
#include <napi.h>

#include "binding/wraps.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  sw::InitVersion(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(small_webrtc, Init)
