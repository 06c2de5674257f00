// Absorbed MLA attention over a stretch of the latent cache, AVX2+FMA: the AVX-512 kernel's
// scheme (mla_rows_avx512.cpp explains it) for CPUs without AVX-512, 8 lanes wide: scores in
// 2-head × 4-row tiles (8 accumulators of the 16 registers), the online softmax on two vectors
// of 8 scores per head with a vector exp, the weighted sum 32 columns of a head at a time.
// Columns past the last whole 8 (odd latent widths) run scalar. Measured with the AVX2 tier
// (K2_CPU_ISA=avx2) on the benchmark model's decode at a 4K context: attention 328-350 µs per
// layer with dot_rows / axpy_rows, 276-290 with this kernel; decode at depth 2048 +4.6% (5
// in-process A/B pairs). Eight lanes leave it compute-bound: the AVX-512 kernel takes 213 µs.
#if defined(__x86_64__)
#include <algorithm>
#include <cmath>
#include <limits>

#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/exp_cephes.h"
#include "backend/cpu/mla_rows_tiles.h"
#include "backend/cpu/simd_avx2.h"

K2_AVX2_BEGIN
namespace k2 {

namespace {

constexpr int kRows = 16;  // cache rows per block: two score vectors per head

// e^x for x ≤ 0, Cephes' expf (exp_cephes.h; relative error ~1e-7); x below −87.3 (and −∞) gives 0.
inline __m256 exp_nonpositive(__m256 x) {
  const __m256 lo = _mm256_set1_ps(exp_cephes::kMinArg);
  const __m256 keep = _mm256_cmp_ps(x, lo, _CMP_GE_OQ);
  x = _mm256_max_ps(x, lo);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(exp_cephes::kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(exp_cephes::kLn2Hi), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(exp_cephes::kLn2Lo), r);
  __m256 p = _mm256_set1_ps(exp_cephes::kPoly[0]);
  for (int k = 1; k < 6; k++) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(exp_cephes::kPoly[k]));
  const __m256 y = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(p, r), r, r), _mm256_set1_ps(1.0f));
  // 2^n through the exponent field; n ≥ −126 here, so the result stays normal.
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_and_ps(_mm256_mul_ps(y, _mm256_castsi256_ps(e)), keep);
}

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// s[h][j] = Σ_i q[h][i]·row[j][i] over len columns, 2 query rows × 4 cache rows.
inline void tile_dots(const float* const q[2], const float* const row[4], int len, float out[2][4]) {
  __m256 acc[2][4];
  for (int h = 0; h < 2; h++)
    for (int j = 0; j < 4; j++) acc[h][j] = _mm256_setzero_ps();
  int i = 0;
  for (; i + 8 <= len; i += 8) {
    const __m256 q0 = _mm256_loadu_ps(q[0] + i), q1 = _mm256_loadu_ps(q[1] + i);
    for (int j = 0; j < 4; j++) {
      const __m256 c = _mm256_loadu_ps(row[j] + i);
      acc[0][j] = _mm256_fmadd_ps(q0, c, acc[0][j]);
      acc[1][j] = _mm256_fmadd_ps(q1, c, acc[1][j]);
    }
  }
  for (int h = 0; h < 2; h++) {
    _mm_storeu_ps(out[h], avx2::reduce4(acc[h][0], acc[h][1], acc[h][2], acc[h][3]));
    for (int k = i; k < len; k++)
      for (int j = 0; j < 4; j++) out[h][j] += q[h][k] * row[j][k];
  }
}

}  // namespace

void mla_rows_avx2(const MlaRowsArgs& a, int c0, int c1) {
  const int H = a.n_heads, L = a.kv_lora, R = a.rope_dim;
  alignas(32) float s[kMaxMlaHeads * kRows];  // scores, then probabilities, [head][row]
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (int cb = c0; cb < c1; cb += kRows) {
    const int nb = std::min(kRows, c1 - cb);
    const float* C = a.cache_c + static_cast<size_t>(cb) * L;
    const float* P = a.cache_pe + static_cast<size_t>(cb) * R;
    // The next block, as in the AVX-512 kernel (written out: GCC drops prefetch-only helpers).
    if (cb + kRows < c1) {
      const int ahead = std::min(kRows, c1 - cb - kRows);
      const char* nc = reinterpret_cast<const char*>(C + static_cast<size_t>(kRows) * L);
      const char* np = reinterpret_cast<const char*>(P + static_cast<size_t>(kRows) * R);
      for (size_t b = 0; b < static_cast<size_t>(ahead) * L * sizeof(float); b += 64) _mm_prefetch(nc + b, _MM_HINT_T0);
      for (size_t b = 0; b < static_cast<size_t>(ahead) * R * sizeof(float); b += 64) _mm_prefetch(np + b, _MM_HINT_T0);
    }
    // Scores. Heads and rows past the end repeat the last one (computed, never stored).
    for (int h0 = 0; h0 < H; h0 += 2) {
      const float* ql[2];
      const float* qp[2];
      mla_tiles::heads<2>(a, h0, ql, qp);
      for (int j0 = 0; j0 < nb; j0 += 4) {
        const float* cr[4];
        const float* pr[4];
        mla_tiles::rows4(C, P, L, R, j0, nb, cr, pr);
        float sc[2][4], sp[2][4];
        tile_dots(ql, cr, L, sc);
        tile_dots(qp, pr, R, sp);
        for (int h = 0; h < 2 && h0 + h < H; h++)
          for (int j = 0; j < 4; j++) s[(h0 + h) * kRows + j0 + j] = sc[h][j] + sp[h][j];
      }
    }
    // Online softmax per head: new maximum → rescale what was summed; probabilities replace scores.
    const __m256 valid0 = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(nb), lane));
    const __m256 valid1 = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(nb - 8), lane));
    const __m256 scale = _mm256_set1_ps(a.scale), neg_inf = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
    for (int h = 0; h < H; h++) {
      const __m256 s0 = _mm256_blendv_ps(neg_inf, _mm256_mul_ps(_mm256_load_ps(s + h * kRows), scale), valid0);
      const __m256 s1 = _mm256_blendv_ps(neg_inf, _mm256_mul_ps(_mm256_load_ps(s + h * kRows + 8), scale), valid1);
      const float bmax = hmax(_mm256_max_ps(s0, s1));
      SoftmaxState& st = a.st[h];
      float* oh = a.o + static_cast<size_t>(h) * L;
      if (bmax > st.m) {
        if (st.l > 0) {
          const float f = std::exp(st.m - bmax);
          st.l *= f;
          const __m256 fv = _mm256_set1_ps(f);
          int i = 0;
          for (; i + 8 <= L; i += 8) _mm256_storeu_ps(oh + i, _mm256_mul_ps(_mm256_loadu_ps(oh + i), fv));
          for (; i < L; i++) oh[i] *= f;
        }
        st.m = bmax;
      }
      const __m256 m = _mm256_set1_ps(st.m);
      const __m256 p0 = _mm256_and_ps(exp_nonpositive(_mm256_sub_ps(s0, m)), valid0);
      const __m256 p1 = _mm256_and_ps(exp_nonpositive(_mm256_sub_ps(s1, m)), valid1);
      st.l += static_cast<double>(avx2::hsum(_mm256_add_ps(p0, p1)));
      _mm256_store_ps(s + h * kRows, p0);
      _mm256_store_ps(s + h * kRows + 8, p1);
    }
    // o[h] += Σ_j p[h][j]·C[j], 32 columns of one head at a time held in registers.
    for (int h = 0; h < H; h++) {
      const float* ph = s + h * kRows;
      float* oh = a.o + static_cast<size_t>(h) * L;
      int i = 0;
      for (; i + 32 <= L; i += 32) {
        __m256 acc[4];
        for (int k = 0; k < 4; k++) acc[k] = _mm256_loadu_ps(oh + i + 8 * k);
        for (int j = 0; j < nb; j++) {
          const __m256 pj = _mm256_set1_ps(ph[j]);
          const float* cj = C + static_cast<size_t>(j) * L + i;
          for (int k = 0; k < 4; k++) acc[k] = _mm256_fmadd_ps(pj, _mm256_loadu_ps(cj + 8 * k), acc[k]);
        }
        for (int k = 0; k < 4; k++) _mm256_storeu_ps(oh + i + 8 * k, acc[k]);
      }
      for (; i + 8 <= L; i += 8) {
        __m256 acc = _mm256_loadu_ps(oh + i);
        for (int j = 0; j < nb; j++) acc = _mm256_fmadd_ps(_mm256_set1_ps(ph[j]), _mm256_loadu_ps(C + static_cast<size_t>(j) * L + i), acc);
        _mm256_storeu_ps(oh + i, acc);
      }
      mla_tiles::weighted_sum_columns(ph, C, nb, L, i, oh);
    }
  }
}

}  // namespace k2
K2_AVX2_END
#endif
