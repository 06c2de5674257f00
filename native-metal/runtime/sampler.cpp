#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>

namespace k2 {

namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
}  // namespace

Sampler::Sampler(const SamplerParams& p) : p_(p) {
  uint64_t s = p.seed;
  state_[0] = splitmix64(s);
  state_[1] = splitmix64(s);
}

// xoroshiro128+: small, fast, and the same sequence on every platform for a given seed.
double Sampler::next_uniform() {
  const uint64_t s0 = state_[0];
  uint64_t s1 = state_[1];
  const uint64_t result = s0 + s1;
  s1 ^= s0;
  state_[0] = ((s0 << 24) | (s0 >> 40)) ^ s1 ^ (s1 << 16);
  state_[1] = (s1 << 37) | (s1 >> 27);
  return static_cast<double>(result >> 11) * (1.0 / 9007199254740992.0);
}

int Sampler::sample(float* logits, int vocab, const std::vector<int32_t>& history) {
  if (p_.repetition_penalty != 1.0f || p_.presence_penalty != 0.0f) {
    seen_.assign(vocab, 0);
    for (int32_t t : history)
      if (t >= 0 && t < vocab) seen_[t] = 1;
    for (int v = 0; v < vocab; v++) {
      if (!seen_[v]) continue;
      // CTRL-style: shrink positive logits, push negative ones further down.
      if (p_.repetition_penalty != 1.0f) logits[v] = logits[v] > 0 ? logits[v] / p_.repetition_penalty : logits[v] * p_.repetition_penalty;
      logits[v] -= p_.presence_penalty;
    }
  }
  int best = 0;
  for (int v = 1; v < vocab; v++)
    if (logits[v] > logits[best]) best = v;
  if (p_.temperature <= 0.0f || p_.top_k == 1) return best;

  // Tokens more than 30 nats (after temperature) below the best carry < 1e-13 of the mass; leaving
  // them out keeps the sort to the plausible candidates instead of the whole vocabulary.
  const float cutoff = logits[best] - 30.0f * p_.temperature;
  idx_.clear();
  for (int v = 0; v < vocab; v++)
    if (logits[v] >= cutoff) idx_.push_back(v);
  int n = static_cast<int>(idx_.size());
  if (p_.top_k > 0 && p_.top_k < n) {
    std::partial_sort(idx_.begin(), idx_.begin() + p_.top_k, idx_.end(), [&](int a, int b) { return logits[a] > logits[b]; });
    n = p_.top_k;
  } else {
    std::sort(idx_.begin(), idx_.end(), [&](int a, int b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
  }
  probs_.resize(n);
  const double mx = logits[idx_[0]];
  double sum = 0;
  for (int i = 0; i < n; i++) {
    probs_[i] = static_cast<float>(std::exp((logits[idx_[i]] - mx) / p_.temperature));
    sum += probs_[i];
  }
  for (int i = 0; i < n; i++) probs_[i] = static_cast<float>(probs_[i] / sum);
  if (p_.min_p > 0) {
    const float floor = p_.min_p * probs_[0];
    int keep = 1;
    while (keep < n && probs_[keep] >= floor) keep++;
    n = keep;
  }
  if (p_.top_p < 1.0f) {
    double cum = 0;
    int keep = 0;
    while (keep < n) {
      cum += probs_[keep++];
      if (cum >= p_.top_p) break;
    }
    n = std::max(1, keep);
  }
  double total = 0;
  for (int i = 0; i < n; i++) total += probs_[i];
  double r = next_uniform() * total;
  for (int i = 0; i < n; i++) {
    r -= probs_[i];
    if (r < 0) return idx_[i];
  }
  return idx_[n - 1];
}

}  // namespace k2
