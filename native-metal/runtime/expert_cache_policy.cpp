#include "runtime/expert_cache_policy.h"

#include <stdexcept>

#include "runtime/expert_cache_policy_kinds.h"

namespace k2 {

EvictionPolicyKind parse_eviction_policy(const std::string& name) {
  if (name == "lru") return EvictionPolicyKind::Lru;
  if (name == "lfu") return EvictionPolicyKind::LfuDecay;
  if (name == "mix") return EvictionPolicyKind::FreqRecency;
  throw std::invalid_argument("unknown eviction policy \"" + name + "\" (expected lru, lfu or mix)");
}

const char* eviction_policy_name(EvictionPolicyKind kind) {
  switch (kind) {
    case EvictionPolicyKind::Lru: return "lru";
    case EvictionPolicyKind::LfuDecay: return "lfu";
    case EvictionPolicyKind::FreqRecency: return "mix";
  }
  return "?";
}

std::unique_ptr<EvictionPolicy> make_eviction_policy(EvictionPolicyKind kind, uint32_t n_keys, const EvictionPolicyParams& params) {
  if (n_keys == 0) throw std::invalid_argument("eviction policy: n_keys must be at least 1");
  switch (kind) {
    case EvictionPolicyKind::Lru: return make_lru_policy(n_keys);
    case EvictionPolicyKind::LfuDecay: return make_lfu_decay_policy(n_keys, params.lfu_half_life);
    case EvictionPolicyKind::FreqRecency: return make_freq_recency_policy(n_keys, params.lfu_half_life, params.mix_window, params.mix_window_share);
  }
  throw std::invalid_argument("eviction policy: unknown kind");
}

}  // namespace k2
