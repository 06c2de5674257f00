// Which resident expert to evict when the expert cache needs a slot. Pure bookkeeping over
// expert keys (layer * n_routed_experts + expert); no I/O and no weights, so the same code runs
// inside the engine's expert cache and inside the simulator (`k2 simulate`) that compares
// policies at K2's real scale.
//
// Cost: every call is O(1) (lru) or O(log n) (lfu, mix) in the number of resident keys, except
// choose_victim, which additionally steps over the keys `evictable` refuses. Keep that set small
// (the experts in use right now); experts pinned for good belong in set_pinned, which takes them
// out of the candidates altogether.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace k2 {

enum class EvictionPolicyKind {
  Lru,          // least recently used
  LfuDecay,     // least frequently used; each access's weight halves every lfu_half_life tokens
  FreqRecency,  // recently used experts are protected; among the others, lfu
};

// Parses "lru" | "lfu" | "mix"; throws std::invalid_argument naming the value otherwise.
EvictionPolicyKind parse_eviction_policy(const std::string& name);
const char* eviction_policy_name(EvictionPolicyKind kind);

// Tunables, defaults chosen by `k2 simulate` measurements (docs/experts.md).
struct EvictionPolicyParams {
  // lfu and mix: an access counts 1 now, 1/2 after this many tokens, 1/4 after twice as many...
  // (continuous form of "halve every count periodically"; the order never needs rebuilding).
  double lfu_half_life = 1024;
  // mix: an expert accessed within this many tokens is only evicted when no older one is left...
  uint32_t mix_window = 1;
  // ...as long as such recent experts hold at most this share of the resident ones (else the
  // oldest of them join the frequency-ordered rest): on a small cache a few tokens' experts
  // would otherwise fill it and mix would degrade to lru.
  double mix_window_share = 0.75;
};

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
  // A pinned key is never chosen as victim (it keeps its statistics); unpinning makes it a
  // candidate again if it is resident. Pinning a non-resident key takes effect once inserted.
  virtual void set_pinned(uint32_t key, bool pinned) = 0;
  // Picks the resident key to evict among those `evictable` accepts (in-use experts are refused
  // by the caller). Returns false when no resident, unpinned key is evictable.
  virtual bool choose_victim(const std::function<bool(uint32_t)>& evictable, uint32_t* victim) = 0;
};

// n_keys = layers * n_routed_experts (keys are dense indices below it); keys >= n_keys throw
// std::out_of_range.
std::unique_ptr<EvictionPolicy> make_eviction_policy(EvictionPolicyKind kind, uint32_t n_keys,
                                                     const EvictionPolicyParams& params = EvictionPolicyParams());

}  // namespace k2
