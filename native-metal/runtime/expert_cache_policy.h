// Which resident expert to evict when the expert cache needs a slot. Pure bookkeeping over
// expert keys (layer * n_routed_experts + expert); no I/O and no weights, so the same code runs
// inside the engine's expert cache and inside the simulator (`k2 simulate`) that compares
// policies at K2's real scale.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace k2 {

enum class EvictionPolicyKind {
  Lru,          // least recently used
  LfuDecay,     // least frequently used, counts halved periodically so old popularity fades
  FreqRecency,  // frequency and recency combined (the default once measured best)
};

// Parses "lru" | "lfu" | "mix"; throws std::invalid_argument naming the value otherwise.
EvictionPolicyKind parse_eviction_policy(const std::string& name);
const char* eviction_policy_name(EvictionPolicyKind kind);

class EvictionPolicy {
 public:
  virtual ~EvictionPolicy() = default;
  // `key` was requested by a token (hit or miss). Called before on_insert for a miss.
  virtual void on_access(uint32_t key) = 0;
  // `key` now occupies a slot.
  virtual void on_insert(uint32_t key) = 0;
  // `key` left its slot.
  virtual void on_evict(uint32_t key) = 0;
  // A token finished all layers: a clock tick for decaying policies.
  virtual void on_token() {}
  // Picks the resident key to evict among those `evictable` accepts (pinned and in-use experts
  // are refused by the caller). Returns false when no resident key is evictable.
  virtual bool choose_victim(const std::function<bool(uint32_t)>& evictable, uint32_t* victim) = 0;
};

// n_keys = layers * n_routed_experts (keys are dense indices below it).
std::unique_ptr<EvictionPolicy> make_eviction_policy(EvictionPolicyKind kind, uint32_t n_keys);

}  // namespace k2
