// What the MLA attention kernels (mla_rows_avx2.cpp, mla_rows_avx512.cpp, mla_rows_neon.cpp)
// share outside their vector code: which query heads and cache rows a score tile reads, and the
// columns after the last whole vector of the weighted sum. Include before a file's target pragma.
#pragma once

#include <algorithm>
#include <cstddef>

#include "backend/cpu/cpu_kernels.h"

namespace k2 {
namespace mla_tiles {

// Heads h0 .. h0+N-1 of the queries (latent part, rope part); past the last head, the last one
// again (its scores are computed and never stored).
template <int N>
inline void heads(const MlaRowsArgs& a, int h0, const float* ql[N], const float* qp[N]) {
  for (int h = 0; h < N; h++) {
    const int hh = std::min(h0 + h, a.n_heads - 1);
    ql[h] = a.q_lat + static_cast<size_t>(hh) * a.kv_lora;
    qp[h] = a.q_pe + static_cast<size_t>(hh) * a.q_pe_stride;
  }
}

// Cache rows j0 .. j0+3 of a block of nb rows (latent C, rope P); past the end, the last row again.
inline void rows4(const float* C, const float* P, int L, int R, int j0, int nb, const float* cr[4], const float* pr[4]) {
  for (int j = 0; j < 4; j++) {
    const int jj = std::min(j0 + j, nb - 1);
    cr[j] = C + static_cast<size_t>(jj) * L;
    pr[j] = P + static_cast<size_t>(jj) * R;
  }
}

// oh[i] += Σ_j ph[j]·C[j][i] for the columns i0 .. L-1 the vector loops left.
inline void weighted_sum_columns(const float* ph, const float* C, int nb, int L, int i0, float* oh) {
  for (int i = i0; i < L; i++) {
    float acc = oh[i];
    for (int j = 0; j < nb; j++) acc += ph[j] * C[static_cast<size_t>(j) * L + i];
    oh[i] = acc;
  }
}

}  // namespace mla_tiles
}  // namespace k2
