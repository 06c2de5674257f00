// Exponentially decayed access counts without touching every key each token: instead of
// multiplying all counts by 2^(-1/half_life) per token, each new access is worth 2^(t/half_life)
// more than one at t = 0. Only ratios matter for eviction, so the order is the same; when the
// increment grows huge, every score is scaled down by an exact power of two.
#pragma once

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace k2 {

class DecayedFrequency {
 public:
  DecayedFrequency(uint32_t n_keys, double half_life) : score_(n_keys, 0), step_(std::exp2(1.0 / half_life)) {
    if (!(half_life > 0) || !std::isfinite(half_life))
      throw std::invalid_argument("eviction policy: half life must be a positive number of tokens, got " + std::to_string(half_life));
  }

  void access(uint32_t k) { score_[k] += inc_; }
  double score(uint32_t k) const { return score_[k]; }

  // Advances one token. Returns the factor every score was multiplied by (1 when none), so that
  // copies of the scores (a ScoreHeap) can follow.
  double tick() {
    inc_ *= step_;
    if (inc_ < kRescaleAbove) return 1;
    const double f = std::ldexp(1.0, -kRescaleExp);
    for (double& s : score_) s *= f;
    inc_ *= f;
    return f;
  }

 private:
  static constexpr int kRescaleExp = 512;
  static constexpr double kRescaleAbove = 1e160;  // ~2^531: far from overflow even summed
  std::vector<double> score_;
  double inc_ = 1;
  double step_;
};

}  // namespace k2
