// One Init function per *_wrap.cc: each adds its functions/classes to the module's exports.
// To add a wrap: declare its Init here and call it from addon.cc (one line each).
#pragma once

#include <napi.h>

namespace sw {

void InitVersion(Napi::Env env, Napi::Object exports);  // version_wrap.cc

}  // namespace sw
