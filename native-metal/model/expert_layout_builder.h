// Builds the expert cache's view of the checkpoint (runtime/expert_layout.h) from the load plan's
// tensor table: the expert cache never parses tensor names itself.
#pragma once

#include "model/load_plan.h"
#include "runtime/expert_layout.h"

namespace k2 {

// Throws std::runtime_error naming the tensor when an expert tensor is missing or has another size.
ExpertLayout build_expert_layout(const LoadPlan& plan);

}  // namespace k2
