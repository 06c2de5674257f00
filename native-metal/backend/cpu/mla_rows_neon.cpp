// Absorbed MLA attention over a stretch of the latent cache, arm64 NEON: the x86 kernels' scheme
// (mla_rows_avx512.cpp explains it) in 4-lane vectors. Scores in 4-head × 4-row tiles (16 of the
// 32 registers accumulate), the online softmax on four vectors of 4 scores per head with a vector
// exp, the weighted sum 32 columns of a head at a time held in registers; columns past the last
// whole 4 (odd latent widths) run scalar. Checked under qemu by `npm run check:arm64` against the
// float64 attention of the backend-op tests; its speed has not been measured (no arm64 machine).
#if defined(__aarch64__)
#include <arm_neon.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/exp_cephes.h"
#include "backend/cpu/mla_rows_tiles.h"

namespace k2 {

namespace {

constexpr int kRows = 16;  // cache rows per block: four score vectors per head

// e^x for x ≤ 0, Cephes' expf (exp_cephes.h); x below −87.3 (and −∞) gives 0.
inline float32x4_t exp_nonpositive(float32x4_t x) {
  const float32x4_t lo = vdupq_n_f32(exp_cephes::kMinArg);
  const uint32x4_t keep = vcgeq_f32(x, lo);
  x = vmaxq_f32(x, lo);
  const float32x4_t n = vrndnq_f32(vmulq_n_f32(x, exp_cephes::kLog2e));
  float32x4_t r = vfmsq_f32(x, n, vdupq_n_f32(exp_cephes::kLn2Hi));
  r = vfmsq_f32(r, n, vdupq_n_f32(exp_cephes::kLn2Lo));
  float32x4_t p = vdupq_n_f32(exp_cephes::kPoly[0]);
  for (int k = 1; k < 6; k++) p = vfmaq_f32(vdupq_n_f32(exp_cephes::kPoly[k]), p, r);
  const float32x4_t y = vaddq_f32(vfmaq_f32(r, vmulq_f32(p, r), r), vdupq_n_f32(1.0f));
  // 2^n through the exponent field; n ≥ −126 here, so the result stays normal.
  const int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
  return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(vmulq_f32(y, vreinterpretq_f32_s32(e))), keep));
}

// s[h][j] = Σ_i q[h][i]·row[j][i] over len columns, 4 query rows × 4 cache rows.
inline void tile_dots(const float* const q[4], const float* const row[4], int len, float out[4][4]) {
  float32x4_t acc[4][4];
  for (int h = 0; h < 4; h++)
    for (int j = 0; j < 4; j++) acc[h][j] = vdupq_n_f32(0);
  int i = 0;
  for (; i + 4 <= len; i += 4) {
    float32x4_t qv[4];
    for (int h = 0; h < 4; h++) qv[h] = vld1q_f32(q[h] + i);
    for (int j = 0; j < 4; j++) {
      const float32x4_t c = vld1q_f32(row[j] + i);
      for (int h = 0; h < 4; h++) acc[h][j] = vfmaq_f32(acc[h][j], qv[h], c);
    }
  }
  for (int h = 0; h < 4; h++) {
    // Lane j of the pairwise sums is row j's dot product.
    const float32x4_t s = vpaddq_f32(vpaddq_f32(acc[h][0], acc[h][1]), vpaddq_f32(acc[h][2], acc[h][3]));
    vst1q_f32(out[h], s);
    for (int k = i; k < len; k++)
      for (int j = 0; j < 4; j++) out[h][j] += q[h][k] * row[j][k];
  }
}

}  // namespace

void mla_rows_neon(const MlaRowsArgs& a, int c0, int c1) {
  const int H = a.n_heads, L = a.kv_lora, R = a.rope_dim;
  alignas(16) float s[kMaxMlaHeads * kRows];  // scores, then probabilities, [head][row]
  const int32x4_t lane = {0, 1, 2, 3};
  for (int cb = c0; cb < c1; cb += kRows) {
    const int nb = std::min(kRows, c1 - cb);
    const float* C = a.cache_c + static_cast<size_t>(cb) * L;
    const float* P = a.cache_pe + static_cast<size_t>(cb) * R;
    if (cb + kRows < c1) {
      const int ahead = std::min(kRows, c1 - cb - kRows);
      const char* nc = reinterpret_cast<const char*>(C + static_cast<size_t>(kRows) * L);
      const char* np = reinterpret_cast<const char*>(P + static_cast<size_t>(kRows) * R);
      for (size_t b = 0; b < static_cast<size_t>(ahead) * L * sizeof(float); b += 64) __builtin_prefetch(nc + b);
      for (size_t b = 0; b < static_cast<size_t>(ahead) * R * sizeof(float); b += 64) __builtin_prefetch(np + b);
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
        float sc[4][4], sp[4][4];
        tile_dots(ql, cr, L, sc);
        tile_dots(qp, pr, R, sp);
        for (int h = 0; h < 4 && h0 + h < H; h++)
          for (int j = 0; j < 4; j++) s[(h0 + h) * kRows + j0 + j] = sc[h][j] + sp[h][j];
      }
    }
    // Online softmax per head: new maximum → rescale what was summed; probabilities replace scores.
    uint32x4_t valid[4];
    for (int v = 0; v < 4; v++) valid[v] = vcltq_s32(lane, vdupq_n_s32(nb - 4 * v));
    const float32x4_t neg_inf = vdupq_n_f32(-std::numeric_limits<float>::infinity());
    for (int h = 0; h < H; h++) {
      float32x4_t sv[4];
      for (int v = 0; v < 4; v++) sv[v] = vbslq_f32(valid[v], vmulq_n_f32(vld1q_f32(s + h * kRows + 4 * v), a.scale), neg_inf);
      const float bmax = vmaxvq_f32(vmaxq_f32(vmaxq_f32(sv[0], sv[1]), vmaxq_f32(sv[2], sv[3])));
      SoftmaxState& st = a.st[h];
      float* oh = a.o + static_cast<size_t>(h) * L;
      if (bmax > st.m) {
        if (st.l > 0) {
          const float f = std::exp(st.m - bmax);
          st.l *= f;
          int i = 0;
          for (; i + 4 <= L; i += 4) vst1q_f32(oh + i, vmulq_n_f32(vld1q_f32(oh + i), f));
          for (; i < L; i++) oh[i] *= f;
        }
        st.m = bmax;
      }
      const float32x4_t m = vdupq_n_f32(st.m);
      float32x4_t sum = vdupq_n_f32(0);
      for (int v = 0; v < 4; v++) {
        const float32x4_t p =
            vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(exp_nonpositive(vsubq_f32(sv[v], m))), valid[v]));
        sum = vaddq_f32(sum, p);
        vst1q_f32(s + h * kRows + 4 * v, p);
      }
      st.l += static_cast<double>(vaddvq_f32(sum));
    }
    // o[h] += Σ_j p[h][j]·C[j], 32 columns of one head at a time held in registers.
    for (int h = 0; h < H; h++) {
      const float* ph = s + h * kRows;
      float* oh = a.o + static_cast<size_t>(h) * L;
      int i = 0;
      for (; i + 32 <= L; i += 32) {
        float32x4_t acc[8];
        for (int k = 0; k < 8; k++) acc[k] = vld1q_f32(oh + i + 4 * k);
        for (int j = 0; j < nb; j++) {
          const float* cj = C + static_cast<size_t>(j) * L + i;
          for (int k = 0; k < 8; k++) acc[k] = vfmaq_n_f32(acc[k], vld1q_f32(cj + 4 * k), ph[j]);
        }
        for (int k = 0; k < 8; k++) vst1q_f32(oh + i + 4 * k, acc[k]);
      }
      for (; i + 4 <= L; i += 4) {
        float32x4_t acc = vld1q_f32(oh + i);
        for (int j = 0; j < nb; j++) acc = vfmaq_n_f32(acc, vld1q_f32(C + static_cast<size_t>(j) * L + i), ph[j]);
        vst1q_f32(oh + i, acc);
      }
      mla_tiles::weighted_sum_columns(ph, C, nb, L, i, oh);
    }
  }
}

}  // namespace k2
#endif
