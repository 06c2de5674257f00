// The concrete eviction policies behind make_eviction_policy (one file each) and the key
// bookkeeping they share: which keys are resident and which are pinned.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/expert_cache_policy.h"

namespace k2 {

class KeyedPolicy : public EvictionPolicy {
 protected:
  explicit KeyedPolicy(uint32_t n_keys) : n_keys_(n_keys), resident_(n_keys, 0), pinned_(n_keys, 0) {}
  void check(uint32_t key, const char* op) const {
    if (key >= n_keys_)
      throw std::out_of_range(std::string("eviction policy ") + op + ": key " + std::to_string(key) + " outside 0.." +
                              std::to_string(n_keys_ - 1));
  }
  // A candidate for eviction: resident and not pinned.
  bool candidate(uint32_t key) const { return resident_[key] && !pinned_[key]; }

  uint32_t n_keys_;
  std::vector<uint8_t> resident_, pinned_;
};

std::unique_ptr<EvictionPolicy> make_lru_policy(uint32_t n_keys);
std::unique_ptr<EvictionPolicy> make_lfu_decay_policy(uint32_t n_keys, double half_life);
std::unique_ptr<EvictionPolicy> make_freq_recency_policy(uint32_t n_keys, double half_life, uint32_t window, double window_share);

}  // namespace k2
