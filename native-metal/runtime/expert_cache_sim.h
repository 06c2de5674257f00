// Replays a routing trace through an expert cache of `capacity` slots run by one eviction
// policy, exactly as the engine's cache uses it: per token and MoE layer, the layer's top_k
// experts are acquired together (each access is a hit or a miss; a miss takes a free slot or
// evicts the policy's victim, never one of the layer's experts being acquired), then released;
// on_token after every token. Bytes and times are the caller's (k2 simulate's throughput model).
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/expert_cache_policy.h"
#include "runtime/route_trace.h"

namespace k2 {

struct CacheSimConfig {
  EvictionPolicyKind policy = EvictionPolicyKind::Lru;
  EvictionPolicyParams params;
  uint64_t capacity = 0;       // expert slots; clamped to the number of experts in the trace
  uint64_t warmup_tokens = 0;  // counted apart, so the steady state is not diluted by the cold start
  // Pinning as the engine's cache does it (expert_cache.cpp repin): every repin_tokens tokens the
  // pin_fraction x capacity resident experts requested most so far (ties: lower key) are pinned,
  // leaving at least top_k slots unpinned; pinned experts are never evicted. 0 = off.
  double pin_fraction = 0;
  uint32_t repin_tokens = 32;
};

struct CacheSimResult {
  uint64_t capacity = 0;  // after clamping
  uint64_t warmup_hits = 0, warmup_misses = 0;
  uint64_t hits = 0, misses = 0;           // tokens after the warm-up
  std::vector<uint32_t> misses_per_token;  // tokens after the warm-up
  double seconds = 0;                      // wall time of the replay
};

// Throws std::invalid_argument when capacity < top_k (one layer's experts must fit together).
CacheSimResult simulate_expert_cache(const RouteTrace& trace, const CacheSimConfig& config);

}  // namespace k2
