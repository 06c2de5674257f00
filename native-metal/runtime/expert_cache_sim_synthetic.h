// Synthetic routing traces with tunable locality, for `k2 simulate` when no recorded trace of
// the real model is at hand. The model (documented in docs/experts.md):
//  - popularity: at each MoE layer the experts are ranked in a random order (per layer, from the
//    seed) and expert of rank r (1-based) is drawn with probability proportional to r^-zipf;
//  - temporal reuse: each of a token's top_k slots, with probability `reuse`, repeats one of the
//    previous token's experts at that layer (uniformly, not already chosen); otherwise it is a
//    fresh popularity draw. A layer's top_k ids are always distinct, as the router's are.
// zipf = 0 and reuse = 0 is uniform random routing (the worst case for any cache).
#pragma once

#include <cstdint>

#include "runtime/route_trace.h"

namespace k2 {

struct SyntheticRouting {
  uint64_t tokens = 1000;
  double zipf = 0.9;
  double reuse = 0.35;
  uint64_t seed = 1;
};

// Throws std::invalid_argument naming the parameter when a value is out of range.
RouteTrace synthetic_route_trace(const RouteTraceShape& shape, const SyntheticRouting& routing);

}  // namespace k2
