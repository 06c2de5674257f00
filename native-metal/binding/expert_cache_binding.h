#pragma once

#include <napi.h>

namespace k2 {

// Adds ExpertCacheProbe, dropFileCache and measureSequentialRead to the module's exports.
void register_expert_cache_exports(Napi::Env env, Napi::Object exports);

}  // namespace k2
