// Absorbed MLA attention over a stretch of the latent cache, AVX-512: every head's scores, online
// softmax and probability-weighted sum of the rows, one block of 16 cache rows at a time.
//
// Why a kernel of its own: the generic path (cpu_mla_attention.cpp over dot_rows / axpy_rows)
// takes a horizontal sum per (head, row), calls libm's expf per score and reloads the output row
// for every four cache rows. On the benchmark model's decode at a 4K context it took 410 µs per
// layer (the cache read at ~6 GB/s), 6 ms of a token; this kernel takes 213 µs (decode at depth
// 4096 +9%, in-process A/B of 6 pairs). Here:
// - scores come in 4-head × 4-row tiles (16 accumulators; each query and cache load feeds four
//   FMAs) reduced four at a time;
// - the 16 scores of a head are one vector: masked max, vector exp, sum;
// - the weighted sum keeps 64 output columns of a head in registers across the block's rows.
#if defined(__x86_64__)
#include <algorithm>
#include <cmath>
#include <limits>

#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/exp_cephes.h"
#include "backend/cpu/mla_rows_tiles.h"
#include "backend/cpu/simd_avx512.h"

K2_AVX512_BEGIN
namespace k2 {

namespace {

constexpr int kRows = 16;  // cache rows per block: one score vector per head
// Prefetch distance: the next block, into L1. Measured on a 4K-row cache (8 heads, 128 + 32
// wide, the benchmark model's) streamed from memory, one thread: no prefetch 460 µs, next block
// 259, 2-4 blocks ahead 268, 2-4 blocks ahead into L2 294-304; 221 from L3.
constexpr int kAheadRows = kRows;

// e^x for x ≤ 0 (scores minus their running maximum), Cephes' expf (exp_cephes.h): relative
// error ~1e-7, as libm's. Very negative x (and −∞) give 0.
inline __m512 exp_nonpositive(__m512 x) {
  const __m512 lo = _mm512_set1_ps(exp_cephes::kMinArg);
  const __mmask16 tiny = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
  x = _mm512_max_ps(x, lo);
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(exp_cephes::kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(exp_cephes::kLn2Hi), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(exp_cephes::kLn2Lo), r);
  __m512 p = _mm512_set1_ps(exp_cephes::kPoly[0]);
  for (int k = 1; k < 6; k++) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(exp_cephes::kPoly[k]));
  const __m512 y = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), _mm512_set1_ps(1.0f));
  return _mm512_maskz_mov_ps(static_cast<__mmask16>(~tiny), _mm512_scalef_ps(y, n));
}

inline __mmask16 tail_mask(int n) { return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1); }

// acc[h][j] += Σ_i q[h][i]·row[j][i] over len columns, for 4 query rows (q[h], stride qs) and 4
// cache rows (stride rs).
inline void tile_dots(const float* const q[4], const float* const row[4], int len, __m512 acc[4][4]) {
  for (int i = 0; i < len; i += 16) {
    const __mmask16 m = tail_mask(len - i);
    __m512 qv[4];
    for (int h = 0; h < 4; h++) qv[h] = _mm512_maskz_loadu_ps(m, q[h] + i);
    for (int j = 0; j < 4; j++) {
      const __m512 c = _mm512_maskz_loadu_ps(m, row[j] + i);
      for (int h = 0; h < 4; h++) acc[h][j] = _mm512_fmadd_ps(qv[h], c, acc[h][j]);
    }
  }
}

}  // namespace

void mla_rows_avx512(const MlaRowsArgs& a, int c0, int c1) {
  const int H = a.n_heads, L = a.kv_lora, R = a.rope_dim;
  alignas(64) float s[kMaxMlaHeads * kRows];  // scores, then probabilities, [head][row]
  for (int cb = c0; cb < c1; cb += kRows) {
    const int nb = std::min(kRows, c1 - cb);
    const float* C = a.cache_c + static_cast<size_t>(cb) * L;
    const float* P = a.cache_pe + static_cast<size_t>(cb) * R;
    // The cache streams from memory (decode reads each layer's once per token), and a block's
    // compute is long enough that the hardware prefetcher alone falls behind. (Written out here:
    // GCC takes a helper holding only prefetches for a pure function and drops its calls.)
    if (cb + kAheadRows < c1) {
      const int ahead = std::min(kRows, c1 - cb - kAheadRows);
      const char* nc = reinterpret_cast<const char*>(C + static_cast<size_t>(kAheadRows) * L);
      const char* np = reinterpret_cast<const char*>(P + static_cast<size_t>(kAheadRows) * R);
      for (size_t b = 0; b < static_cast<size_t>(ahead) * L * sizeof(float); b += 64) _mm_prefetch(nc + b, _MM_HINT_T0);
      for (size_t b = 0; b < static_cast<size_t>(ahead) * R * sizeof(float); b += 64) _mm_prefetch(np + b, _MM_HINT_T0);
    }
    // Scores. Heads and rows past the end repeat the last one (computed, never stored).
    for (int h0 = 0; h0 < H; h0 += 4) {
      const float* ql[4];
      const float* qp[4];
      mla_tiles::heads<4>(a, h0, ql, qp);
      for (int j0 = 0; j0 < nb; j0 += 4) {
        const float* cr[4];
        const float* pr[4];
        mla_tiles::rows4(C, P, L, R, j0, nb, cr, pr);
        __m512 acc[4][4];
        for (int h = 0; h < 4; h++)
          for (int j = 0; j < 4; j++) acc[h][j] = _mm512_setzero_ps();
        tile_dots(ql, cr, L, acc);
        tile_dots(qp, pr, R, acc);
        for (int h = 0; h < 4 && h0 + h < H; h++) _mm_storeu_ps(s + (h0 + h) * kRows + j0, avx512::reduce4(acc[h][0], acc[h][1], acc[h][2], acc[h][3]));
      }
    }
    // Online softmax per head: new maximum → rescale what was summed; probabilities replace scores.
    const __mmask16 valid = tail_mask(nb);
    const __m512 scale = _mm512_set1_ps(a.scale), neg_inf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
    for (int h = 0; h < H; h++) {
      const __m512 sv = _mm512_mask_mul_ps(neg_inf, valid, _mm512_load_ps(s + h * kRows), scale);
      const float bmax = _mm512_reduce_max_ps(sv);
      SoftmaxState& st = a.st[h];
      float* oh = a.o + static_cast<size_t>(h) * L;
      if (bmax > st.m) {
        if (st.l > 0) {
          const float f = std::exp(st.m - bmax);
          st.l *= f;
          const __m512 fv = _mm512_set1_ps(f);
          for (int i = 0; i < L; i += 16) {
            const __mmask16 m = tail_mask(L - i);
            _mm512_mask_storeu_ps(oh + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, oh + i), fv));
          }
        }
        st.m = bmax;
      }
      const __m512 p = _mm512_maskz_mov_ps(valid, exp_nonpositive(_mm512_sub_ps(sv, _mm512_set1_ps(st.m))));
      st.l += static_cast<double>(_mm512_reduce_add_ps(p));
      _mm512_store_ps(s + h * kRows, p);
    }
    // o[h] += Σ_j p[h][j]·C[j], 64 columns of one head at a time held in registers.
    for (int h = 0; h < H; h++) {
      const float* ph = s + h * kRows;
      float* oh = a.o + static_cast<size_t>(h) * L;
      for (int i = 0; i < L; i += 64) {
        __mmask16 m[4];
        __m512 acc[4];
        for (int k = 0; k < 4; k++) {
          m[k] = i + 16 * k < L ? tail_mask(L - i - 16 * k) : static_cast<__mmask16>(0);
          acc[k] = _mm512_maskz_loadu_ps(m[k], oh + i + 16 * k);
        }
        for (int j = 0; j < nb; j++) {
          const __m512 pj = _mm512_set1_ps(ph[j]);
          const float* cj = C + static_cast<size_t>(j) * L + i;
          for (int k = 0; k < 4; k++) acc[k] = _mm512_fmadd_ps(pj, _mm512_maskz_loadu_ps(m[k], cj + 16 * k), acc[k]);
        }
        for (int k = 0; k < 4; k++) _mm512_mask_storeu_ps(oh + i + 16 * k, m[k], acc[k]);
      }
    }
  }
}

}  // namespace k2
K2_AVX512_END
#endif
