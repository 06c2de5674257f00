// Prefill matmuls (many token rows), AVX2+FMA. Weight rows are converted to f32 a panel at a
// time — 16 rows × KC inputs, transposed so one k step is two vectors — and every token row of
// the chunk is then multiplied against the panel while it sits in L1. Each weight is read from
// memory and converted once per chunk; the 6×16 micro-kernel keeps 12 accumulators in
// registers and issues 12 FMAs per 2 panel loads and 6 broadcasts.
#if defined(__x86_64__)
#include <algorithm>
#include <cstring>
#include <vector>

#include "backend/cpu/simd_avx2.h"
#include "backend/cpu/cpu_kernels.h"

K2_AVX2_BEGIN
namespace k2 {
namespace {

constexpr int NR = 16;   // weight rows per panel
constexpr int MR = 6;    // token rows per micro-kernel call
constexpr int KC = 256;  // inputs per panel: 16 KiB of f32, resident in L1

// 8×8 transpose of rows a[0..8) (8 floats each) into out rows.
inline void transpose8(__m256 r[8]) {
  __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// rows: NR row-major f32 rows of `kc` values (stride ld, kc padded to a multiple of 8 with zeros).
// panel: [kc][NR] — panel[k*NR + i] = rows[i][k].
inline void pack_panel(const float* rows, int ld, int kc, float* panel) {
  for (int k = 0; k < kc; k += 8)
    for (int half = 0; half < 2; half++) {
      __m256 r[8];
      for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(rows + static_cast<size_t>(half * 8 + i) * ld + k);
      transpose8(r);
      for (int j = 0; j < 8; j++) _mm256_storeu_ps(panel + static_cast<size_t>(k + j) * NR + half * 8, r[j]);
    }
}

// The full 6×16 tile with named accumulators: GCC spills arrays of __m256 to the stack inside the
// k loop, which halves the throughput.
__attribute__((noinline)) void micro6(const float* x, int ldx, const float* panel, int kc, float* c, int ldc, bool accumulate) {
  __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
  if (accumulate) {
    c00 = _mm256_loadu_ps(c + 0 * ldc), c01 = _mm256_loadu_ps(c + 0 * ldc + 8);
    c10 = _mm256_loadu_ps(c + 1 * ldc), c11 = _mm256_loadu_ps(c + 1 * ldc + 8);
    c20 = _mm256_loadu_ps(c + 2 * ldc), c21 = _mm256_loadu_ps(c + 2 * ldc + 8);
    c30 = _mm256_loadu_ps(c + 3 * ldc), c31 = _mm256_loadu_ps(c + 3 * ldc + 8);
    c40 = _mm256_loadu_ps(c + 4 * ldc), c41 = _mm256_loadu_ps(c + 4 * ldc + 8);
    c50 = _mm256_loadu_ps(c + 5 * ldc), c51 = _mm256_loadu_ps(c + 5 * ldc + 8);
  } else {
    c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = _mm256_setzero_ps();
  }
  // One moving pointer plus constant offsets keeps the loop within the general registers.
  const size_t l1 = static_cast<size_t>(ldx), l3 = 3 * l1, l5 = 5 * l1;
  const float* xk = x;
  const float* pk = panel;
#define K2_GEMM_STEP(P, X)                                                       \
  {                                                                              \
    const __m256 w0 = _mm256_loadu_ps(P), w1 = _mm256_loadu_ps((P) + 8);         \
    __m256 b = _mm256_broadcast_ss(X);                                           \
    c00 = _mm256_fmadd_ps(w0, b, c00), c01 = _mm256_fmadd_ps(w1, b, c01);       \
    b = _mm256_broadcast_ss((X) + l1);                                           \
    c10 = _mm256_fmadd_ps(w0, b, c10), c11 = _mm256_fmadd_ps(w1, b, c11);       \
    b = _mm256_broadcast_ss((X) + 2 * l1);                                       \
    c20 = _mm256_fmadd_ps(w0, b, c20), c21 = _mm256_fmadd_ps(w1, b, c21);       \
    b = _mm256_broadcast_ss((X) + l3);                                           \
    c30 = _mm256_fmadd_ps(w0, b, c30), c31 = _mm256_fmadd_ps(w1, b, c31);       \
    b = _mm256_broadcast_ss((X) + 4 * l1);                                       \
    c40 = _mm256_fmadd_ps(w0, b, c40), c41 = _mm256_fmadd_ps(w1, b, c41);       \
    b = _mm256_broadcast_ss((X) + l5);                                           \
    c50 = _mm256_fmadd_ps(w0, b, c50), c51 = _mm256_fmadd_ps(w1, b, c51);       \
  }
  int k = 0;
  for (; k + 4 <= kc; k += 4, xk += 4, pk += 4 * NR) {
    K2_GEMM_STEP(pk, xk)
    K2_GEMM_STEP(pk + NR, xk + 1)
    K2_GEMM_STEP(pk + 2 * NR, xk + 2)
    K2_GEMM_STEP(pk + 3 * NR, xk + 3)
  }
  for (; k < kc; k++, xk++, pk += NR) K2_GEMM_STEP(pk, xk)
#undef K2_GEMM_STEP
  _mm256_storeu_ps(c + 0 * ldc, c00), _mm256_storeu_ps(c + 0 * ldc + 8, c01);
  _mm256_storeu_ps(c + 1 * ldc, c10), _mm256_storeu_ps(c + 1 * ldc + 8, c11);
  _mm256_storeu_ps(c + 2 * ldc, c20), _mm256_storeu_ps(c + 2 * ldc + 8, c21);
  _mm256_storeu_ps(c + 3 * ldc, c30), _mm256_storeu_ps(c + 3 * ldc + 8, c31);
  _mm256_storeu_ps(c + 4 * ldc, c40), _mm256_storeu_ps(c + 4 * ldc + 8, c41);
  _mm256_storeu_ps(c + 5 * ldc, c50), _mm256_storeu_ps(c + 5 * ldc + 8, c51);
}

// The tail of a chunk (1..5 token rows). Kept out of line so the accumulators stay in registers.
template <int T>
__attribute__((noinline)) void micro_tail(const float* x, int ldx, const float* panel, int kc, float* c, int ldc, bool accumulate) {
  __m256 acc[2 * T];
#pragma GCC unroll 10
  for (int t = 0; t < T; t++) {
    acc[2 * t] = accumulate ? _mm256_loadu_ps(c + t * ldc) : _mm256_setzero_ps();
    acc[2 * t + 1] = accumulate ? _mm256_loadu_ps(c + t * ldc + 8) : _mm256_setzero_ps();
  }
  const float* xk = x;
  const float* pk = panel;
  for (int k = 0; k < kc; k++, xk++, pk += NR) {
    const __m256 w0 = _mm256_loadu_ps(pk), w1 = _mm256_loadu_ps(pk + 8);
#pragma GCC unroll 10
    for (int t = 0; t < T; t++) {
      const __m256 b = _mm256_broadcast_ss(xk + static_cast<size_t>(t) * ldx);
      acc[2 * t] = _mm256_fmadd_ps(w0, b, acc[2 * t]);
      acc[2 * t + 1] = _mm256_fmadd_ps(w1, b, acc[2 * t + 1]);
    }
  }
#pragma GCC unroll 10
  for (int t = 0; t < T; t++) {
    _mm256_storeu_ps(c + t * ldc, acc[2 * t]);
    _mm256_storeu_ps(c + t * ldc + 8, acc[2 * t + 1]);
  }
}

inline void micro_any(int t, const float* x, int ldx, const float* panel, int kc, float* c, int ldc, bool acc) {
  if (t == MR) {
    micro6(x, ldx, panel, kc, c, ldc, acc);
    return;
  }
  switch (t) {
    case 5: micro_tail<5>(x, ldx, panel, kc, c, ldc, acc); break;
    case 4: micro_tail<4>(x, ldx, panel, kc, c, ldc, acc); break;
    case 3: micro_tail<3>(x, ldx, panel, kc, c, ldc, acc); break;
    case 2: micro_tail<2>(x, ldx, panel, kc, c, ldc, acc); break;
    default: micro_tail<1>(x, ldx, panel, kc, c, ldc, acc); break;
  }
}

// Writes f32 values of weight rows [r, r+nr) × inputs [k0, k0+kc) into rows (row-major, stride KC).
template <class Source>
void gemm(const float* x, int n, int K, float* y, int ldy, int r0, int r1, const Source& src) {
  thread_local std::vector<float> rows_buf, panel_buf, tile_buf;
  rows_buf.resize(NR * KC);
  panel_buf.resize(NR * KC);
  tile_buf.resize(static_cast<size_t>(n) * NR);
  float* rows = rows_buf.data();
  float* panel = panel_buf.data();
  float* tile = tile_buf.data();  // [n][NR] partial sums of the current panel
  for (int r = r0; r < r1; r += NR) {
    const int nr = std::min(NR, r1 - r);
    for (int k0 = 0; k0 < K; k0 += KC) {
      const int kc = std::min(KC, K - k0);
      const int kc8 = (kc + 7) & ~7;
      // Padding (missing rows of the last panel, inputs past kc) must be zero; full panels need none.
      if (nr < NR || kc8 != kc) std::memset(rows, 0, sizeof(float) * NR * KC);
      for (int i = 0; i < nr; i++) src(r + i, k0, kc, rows + i * KC);
      pack_panel(rows, KC, kc8, panel);
      const float* xk = x + k0;
      if (kc8 != kc) {
        // The padded tail of the panel is zero, but x has no padding: run the last inputs separately.
        const int main = kc & ~7;
        for (int t = 0; t < n; t += MR) micro_any(std::min(MR, n - t), xk + static_cast<size_t>(t) * K, K, panel, main,
                                                  tile + static_cast<size_t>(t) * NR, NR, k0 > 0);
        for (int t = 0; t < n; t++)
          for (int k = main; k < kc; k++) {
            const float xv = xk[static_cast<size_t>(t) * K + k];
            for (int i = 0; i < NR; i++) tile[static_cast<size_t>(t) * NR + i] += panel[k * NR + i] * xv;
          }
      } else {
        for (int t = 0; t < n; t += MR) micro_any(std::min(MR, n - t), xk + static_cast<size_t>(t) * K, K, panel, kc,
                                                  tile + static_cast<size_t>(t) * NR, NR, k0 > 0);
      }
    }
    for (int t = 0; t < n; t++) std::memcpy(y + static_cast<size_t>(t) * ldy + r, tile + static_cast<size_t>(t) * NR, sizeof(float) * nr);
  }
}

}  // namespace

void bf16_gemm_avx2(const float* x, int n, const Bf16Matrix& w, float* y, int ldy, int r0, int r1) {
  const int K = w.cols;
  gemm(x, n, K, y, ldy, r0, r1, [&](int r, int k0, int kc, float* out) {
    const uint16_t* p = w.data + static_cast<size_t>(r) * K + k0;
    int k = 0;
    for (; k + 8 <= kc; k += 8) _mm256_storeu_ps(out + k, avx2::load_bf16(p + k));
    for (; k < kc; k++) out[k] = bf16_to_f32(p[k]);
  });
}

void int4_gemm_avx2(const float* x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1) {
  const int K = w.cols;
  const __m128i m = _mm_set1_epi8(0x0F), eight = _mm_set1_epi8(8);
  gemm(x, n, K, y, ldy, r0, r1, [&](int r, int k0, int kc, float* out) {
    // k0 and kc are multiples of 32 (KC is, and INT4 rows are).
    const uint32_t* p = w.packed + static_cast<size_t>(r) * (K / 8);
    const uint16_t* s = w.scales + static_cast<size_t>(r) * (K / 32);
    for (int g = k0 / 32; g < (k0 + kc) / 32; g++) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + g * 4));
      const __m128i lo = _mm_sub_epi8(_mm_and_si128(bytes, m), eight);
      const __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(bytes, 4), m), eight);
      const __m128i e0 = _mm_unpacklo_epi8(lo, hi), e1 = _mm_unpackhi_epi8(lo, hi);
      const __m256 sv = _mm256_set1_ps(bf16_to_f32(s[g]));
      float* o = out + (g * 32 - k0);
      _mm256_storeu_ps(o, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(e0)), sv));
      _mm256_storeu_ps(o + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(e0, 8))), sv));
      _mm256_storeu_ps(o + 16, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(e1)), sv));
      _mm256_storeu_ps(o + 24, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(e1, 8))), sv));
    }
  });
}

}  // namespace k2
K2_AVX2_END
#endif
