// One Init function per *_wrap.cc: each adds its functions/classes to the module's exports.
// To add a wrap: declare its Init here and call it from addon.cc (one line each).
#pragma once

#include <napi.h>

namespace sw {

void InitVersion(Napi::Env env, Napi::Object exports);              // version_wrap.cc
void InitRtp(Napi::Env env, Napi::Object exports);                  // rtp_wrap.cc
void InitOpus(Napi::Env env, Napi::Object exports);                 // opus_wrap.cc
void InitResampler(Napi::Env env, Napi::Object exports);            // resampler_wrap.cc
void InitAudioReceiver(Napi::Env env, Napi::Object exports);        // audio_receiver_wrap.cc
void InitAudioSender(Napi::Env env, Napi::Object exports);          // audio_sender_wrap.cc
void InitVp8Depacketizer(Napi::Env env, Napi::Object exports);      // vp8_depacketizer_wrap.cc
void InitVp8Packetizer(Napi::Env env, Napi::Object exports);        // vp8_packetizer_wrap.cc
void InitVp8Codec(Napi::Env env, Napi::Object exports);             // vp8_codec_wrap.cc
void InitVideoSenderFeedback(Napi::Env env, Napi::Object exports);  // video_sender_feedback_wrap.cc
void InitWorkers(Napi::Env env, Napi::Object exports);              // worker_wrap.cc
void InitVideoReceiver(Napi::Env env, Napi::Object exports);        // video_receiver_wrap.cc
void InitVideoSender(Napi::Env env, Napi::Object exports);
void InitWorkers(Napi::Env env, Napi::Object exports);  // TEMP          // video_sender_wrap.cc

}  // namespace sw
