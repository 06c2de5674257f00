// Reads the NativeLoadPlan object the TypeScript loader builds (src/engine/native_api.ts).
#pragma once

#include <napi.h>

#include "model/load_plan.h"

namespace k2 {

// Throws Napi::TypeError naming the plan field that is missing or of the wrong type.
LoadPlan parse_load_plan(const Napi::Object& plan);

}  // namespace k2
