#include "runtime/expert_cache_sim.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>

namespace k2 {

CacheSimResult simulate_expert_cache(const RouteTrace& trace, const CacheSimConfig& cfg) {
  const RouteTraceShape& s = trace.shape;
  validate_route_shape(s);
  const uint32_t M = static_cast<uint32_t>(s.moe_layers.size()), E = s.n_experts, K = s.top_k;
  const uint64_t n_keys = static_cast<uint64_t>(M) * E;
  if (cfg.capacity < K)
    throw std::invalid_argument("expert cache capacity " + std::to_string(cfg.capacity) + " is below top_k " + std::to_string(K) +
                                ": one layer's experts must be resident together");
  if (n_keys > UINT32_MAX) throw std::invalid_argument("expert cache: too many experts (" + std::to_string(n_keys) + ")");
  const auto started = std::chrono::steady_clock::now();
  CacheSimResult r;
  r.capacity = std::min(cfg.capacity, n_keys);
  auto policy = make_eviction_policy(cfg.policy, static_cast<uint32_t>(n_keys), cfg.params);
  std::vector<uint8_t> resident(n_keys, 0);
  uint64_t used = 0;
  const uint64_t tokens = trace.tokens();
  if (tokens > cfg.warmup_tokens) r.misses_per_token.reserve(tokens - cfg.warmup_tokens);
  if (!(cfg.pin_fraction >= 0 && cfg.pin_fraction <= 1))
    throw std::invalid_argument("expert cache simulator: pin fraction must be 0..1, got " + std::to_string(cfg.pin_fraction));
  std::vector<uint64_t> requests(n_keys, 0);
  std::vector<uint8_t> pinned(n_keys, 0);
  std::vector<uint32_t> pinned_keys, candidates;
  const uint64_t pin_limit = std::min<uint64_t>(static_cast<uint64_t>(r.capacity * cfg.pin_fraction), r.capacity - std::min<uint64_t>(r.capacity, K));
  const auto repin = [&] {
    for (uint32_t k : pinned_keys) pinned[k] = 0;
    pinned_keys.clear();
    candidates.clear();
    for (uint32_t k = 0; k < n_keys; k++)
      if (resident[k]) candidates.push_back(k);
    const size_t n = std::min<size_t>(pin_limit, candidates.size());
    std::partial_sort(candidates.begin(), candidates.begin() + n, candidates.end(),
                      [&](uint32_t a, uint32_t b) { return requests[a] != requests[b] ? requests[a] > requests[b] : a < b; });
    for (size_t i = 0; i < n; i++) {
      pinned[candidates[i]] = 1;
      pinned_keys.push_back(candidates[i]);
    }
  };
  uint32_t in_use[256];  // validate_route_shape caps top_k at 256
  const auto evictable = [&](uint32_t key) {
    if (pinned[key]) return false;
    for (uint32_t i = 0; i < K; i++)
      if (in_use[i] == key) return false;
    return true;
  };
  for (uint64_t t = 0; t < tokens; t++) {
    uint64_t hits = 0, misses = 0;
    for (uint32_t m = 0; m < M; m++) {
      const uint16_t* row = &trace.ids[(t * M + m) * K];
      // Like the engine's acquire: look every expert of the layer up first (so all of them are
      // the most recent), then load the misses.
      uint32_t missed[256];
      uint32_t n_missed = 0;
      for (uint32_t j = 0; j < K; j++) {
        const uint32_t key = m * E + row[j];
        in_use[j] = key;
        requests[key]++;
        policy->on_access(key);
        if (resident[key])
          hits++;
        else
          missed[n_missed++] = key;
      }
      misses += n_missed;
      for (uint32_t i = 0; i < n_missed; i++) {
        if (used == r.capacity) {
          uint32_t victim = 0;
          if (!policy->choose_victim(evictable, &victim))
            throw std::logic_error("expert cache simulator: policy found no victim with " + std::to_string(used) + " resident");
          policy->on_evict(victim);
          resident[victim] = 0;
          used--;
        }
        policy->on_insert(missed[i]);
        resident[missed[i]] = 1;
        used++;
      }
    }
    policy->on_token();
    if (cfg.pin_fraction > 0 && cfg.repin_tokens > 0 && pin_limit > 0 && (t + 1) % cfg.repin_tokens == 0) repin();
    if (t < cfg.warmup_tokens) {
      r.warmup_hits += hits;
      r.warmup_misses += misses;
    } else {
      r.hits += hits;
      r.misses += misses;
      r.misses_per_token.push_back(static_cast<uint32_t>(misses));
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return r;
}

}  // namespace k2
