#include "runtime/expert_cache_sim_synthetic.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>

namespace k2 {

RouteTrace synthetic_route_trace(const RouteTraceShape& shape, const SyntheticRouting& r) {
  validate_route_shape(shape);
  if (r.tokens < 1) throw std::invalid_argument("synthetic routes: tokens must be at least 1");
  if (!(r.zipf >= 0) || !std::isfinite(r.zipf) || r.zipf > 10)
    throw std::invalid_argument("synthetic routes: zipf must be 0..10, got " + std::to_string(r.zipf));
  if (!(r.reuse >= 0 && r.reuse <= 1)) throw std::invalid_argument("synthetic routes: reuse must be 0..1, got " + std::to_string(r.reuse));
  const uint32_t M = static_cast<uint32_t>(shape.moe_layers.size()), E = shape.n_experts, K = shape.top_k;
  if (r.tokens > (uint64_t{1} << 33) / shape.record_ids())
    throw std::invalid_argument("synthetic routes: " + std::to_string(r.tokens) + " tokens would need more than 16 GB");
  std::mt19937_64 rng(r.seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);

  // Per layer: expert of each popularity rank, and the cumulative rank distribution.
  std::vector<std::vector<uint16_t>> by_rank(M, std::vector<uint16_t>(E));
  std::vector<double> cdf(E);
  double acc = 0;
  for (uint32_t i = 0; i < E; i++) cdf[i] = acc += std::pow(static_cast<double>(i + 1), -r.zipf);
  for (double& c : cdf) c /= acc;
  for (auto& order : by_rank) {
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
  }

  RouteTrace t;
  t.shape = shape;
  t.ids.resize(r.tokens * shape.record_ids());
  std::vector<uint8_t> chosen(E, 0);
  for (uint64_t tok = 0; tok < r.tokens; tok++)
    for (uint32_t m = 0; m < M; m++) {
      uint16_t* row = &t.ids[(tok * M + m) * K];
      const uint16_t* prev = tok > 0 ? row - shape.record_ids() : nullptr;
      for (uint32_t j = 0; j < K; j++) {
        int pick = -1;
        if (prev && unit(rng) < r.reuse) {
          uint16_t free_prev[256];  // validate_route_shape caps top_k at 256
          uint32_t n = 0;
          for (uint32_t i = 0; i < K; i++)
            if (!chosen[prev[i]]) free_prev[n++] = prev[i];
          if (n) pick = free_prev[std::min<uint32_t>(n - 1, static_cast<uint32_t>(unit(rng) * n))];
        }
        // Fresh draw by popularity; very skewed popularities may keep hitting chosen experts, so
        // after many tries take the most popular one still free.
        for (int tries = 0; pick < 0 && tries < 64; tries++) {
          const size_t rank = std::lower_bound(cdf.begin(), cdf.end(), unit(rng)) - cdf.begin();
          const uint16_t e = by_rank[m][std::min<size_t>(rank, E - 1)];
          if (!chosen[e]) pick = e;
        }
        for (uint32_t rank = 0; pick < 0; rank++)
          if (!chosen[by_rank[m][rank]]) pick = by_rank[m][rank];
        row[j] = static_cast<uint16_t>(pick);
        chosen[pick] = 1;
      }
      for (uint32_t j = 0; j < K; j++) chosen[row[j]] = 0;
    }
  return t;
}

}  // namespace k2
