// Module entry point of the small_webrtc addon (loaded only by src/native/binding.ts).
#include <napi.h>

#include "binding/wraps.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  sw::InitVersion(env, exports);
  sw::InitRtp(env, exports);
  sw::InitOpus(env, exports);
  sw::InitResampler(env, exports);
  sw::InitAudioReceiver(env, exports);
  sw::InitAudioSender(env, exports);
  sw::InitVp8Depacketizer(env, exports);
  sw::InitVp8Packetizer(env, exports);
  sw::InitVp8Codec(env, exports);
  sw::InitVideoSenderFeedback(env, exports);
  sw::InitWorkers(env, exports);
  sw::InitVideoReceiver(env, exports);
  sw::InitVideoSender(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(small_webrtc, Init)
