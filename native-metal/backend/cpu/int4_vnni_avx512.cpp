// Fast-mode INT4 (group 32) × int16 activations through AVX-512 VNNI (vpdpbusd: unsigned bytes ×
// signed bytes, four products summed into each int32 lane).
//
// Why this shape: the AVX2 kernel spends ~9 instructions per group of 32 weights unpacking
// nibbles to int16 and converting every group's sum to float, which makes decode compute-bound
// on 2 cores. Here 64 bytes of packed weights (4 groups, 128 weights) are split into low and high
// nibbles with two ANDs and a shift and go straight into vpdpbusd; one float convert and FMA per
// 4 groups follow: about 12 instructions per 128 weights.
//
// The int16 activations (the same values quantize_q16_avx2 produces: q = round(x / d), |q| ≤ 32767)
// are split as q = 256·hi + lo with hi = q >> 8 signed and lo = q & 255 unsigned. The nibbles
// (0..15) are valid as both unsigned and signed bytes, so nibbles × hi uses them as the unsigned
// operand and lo × nibbles as the signed one; (Σ nibble·hi)·256 + Σ lo·nibble is the exact int16
// dot product, identical to the AVX2 kernel's.
//
// Layout of one token row (row_elems = cols rounded up to 128, so 256 bytes per 4-group block):
//   block b (groups 4b..4b+3) = [hi of even elements | hi of odd | lo of even | lo of odd],
//   64 bytes each; in each, group 4b+m owns bytes 16m..16m+15 and element 2p (or 2p+1) of the
//   group sits at byte 16m + p.
// That is the order vpdpbusd meets the weights in: packed int32 word k of a group holds elements
// 8k..8k+7, byte j of the word elements 8k+2j (low nibble) and 8k+2j+1 (high), so int32 lane
// 4m+k of a 64-byte load covers group m's elements 8k..8k+7, and its low nibbles are elements
// 2p for p = 4k..4k+3.
#if defined(__x86_64__)
#include <algorithm>
#include <cstring>
#include <cstdlib>

#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/simd_avx512.h"

K2_AVX512_BEGIN
namespace k2 {

void quantize_q16_vnni_avx512(const float* x, int n, int cols, Q16Rows& out, int row0) {
  const int G = cols / 32, blocks = (G + 3) / 4;
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7FFFFFFF));
  for (int t = 0; t < n; t++) {
    const size_t row = static_cast<size_t>(row0 + t);
    uint8_t* base = reinterpret_cast<uint8_t*>(out.qs + row * out.row_elems);
    float* d = out.d + row * out.row_groups;
    float* dsum8 = out.dsum8 + row * out.row_groups;
    const float* xt = x + static_cast<size_t>(t) * cols;
    for (int g = 0; g < G; g++) {
      const __m512 v0 = _mm512_loadu_ps(xt + g * 32), v1 = _mm512_loadu_ps(xt + g * 32 + 16);
      const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_and_ps(v0, abs_mask), _mm512_and_ps(v1, abs_mask)));
      const float dg = amax / 32767.0f;
      const __m512 id = _mm512_set1_ps(dg > 0 ? 1.0f / dg : 0.0f);
      // Round to nearest even, as the scalar reference's nearbyint does.
      const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, id)), q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, id));
      const __m512i qe = _mm512_permutex2var_epi32(q0, even, q1), qo = _mm512_permutex2var_epi32(q0, odd, q1);
      uint8_t* b = base + static_cast<size_t>(g / 4) * 256 + 16 * (g % 4);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(b), _mm512_cvtepi32_epi8(_mm512_srai_epi32(qe, 8)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(b + 64), _mm512_cvtepi32_epi8(_mm512_srai_epi32(qo, 8)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(b + 128), _mm512_cvtepi32_epi8(qe));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(b + 192), _mm512_cvtepi32_epi8(qo));
      d[g] = dg;
      dsum8[g] = 8.0f * dg * static_cast<float>(_mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1)));
    }
    // The last block's missing groups and the scale padding read as zero.
    for (int g = G; g < blocks * 4; g++) {
      uint8_t* b = base + static_cast<size_t>(g / 4) * 256 + 16 * (g % 4);
      for (int s = 0; s < 4; s++) std::memset(b + 64 * s, 0, 16);
    }
    for (int g = G; g < out.row_groups; g++) d[g] = dsum8[g] = 0.0f;
  }
}

namespace {

// Software prefetch distance in the packed weights. Rows are contiguous, so running ahead of the
// current row runs into the next rows; in decode a thread walks row ranges of several experts in
// turn (tens of KB each, 4 KB pages), where the hardware prefetcher alone ramps up too late.
// Measured on the benchmark model's decode: +12% (best of 8 runs, 2 threads); 512 is worse and
// 2048 no better.
constexpr int kPrefetchBytes = 1024;
// vnni_rows4_t1 prefetches by rows instead: 16 rows (four calls) ahead. Measured on the benchmark
// model's decode (rows of 896 bytes in gate/up, 240 in down), in one process, the distance
// switched between adjacent runs (30 pairs each, median ratio against 8 rows): 12 rows +2.0%,
// 16 rows +1.8% (bus loaded by other tenants) and +2.9% (free bus), 24 rows -0.4%, 32 rows -2.4%.
// Earlier, separate processes: 4 rows 57.9 / 54.4, 8 rows 58.0 / 56.1 tok/s; in the kernel bench
// rows ahead stream 1.1-1.3x faster than 1 KB ahead.
constexpr int kPrefetchRows = 16;

// T token rows against weight row r: each 4-group block of weights is loaded and split into
// nibbles once and feeds every token row.
template <int T>
inline void vnni_row(const Q16Rows& x, int t0, const Int4Matrix& w, int r, float* y, int ldy) {
  const int K = w.cols, G = K / 32;
  const uint8_t* pr = reinterpret_cast<const uint8_t*>(w.packed + static_cast<size_t>(r) * (K / 8));
  const uint16_t* sr = w.scales + static_cast<size_t>(r) * G;
  const __m512i nib = _mm512_set1_epi8(0x0F), zero = _mm512_setzero_si512();
  const int8_t* q[T];
  const float* d[T];
  const float* ds[T];
  __m512 acc[T][2], corr[T];
  for (int j = 0; j < T; j++) {
    const Q16Rows row = x.row(t0 + j);
    q[j] = reinterpret_cast<const int8_t*>(row.qs);
    d[j] = row.d;
    ds[j] = row.dsum8;
    acc[j][0] = acc[j][1] = corr[j] = _mm512_setzero_ps();
  }
  // The scales are 1/8 of the weights' bytes: the same distance scaled, one line per row.
  if (kPrefetchBytes > 0) _mm_prefetch(reinterpret_cast<const char*>(sr) + kPrefetchBytes / 8, _MM_HINT_T0);
  for (int gc = 0; gc < G; gc += 16) {
    const int ng = std::min(16, G - gc);
    // 16 groups' weight scales × each token's activation scales; lane m of a block's vector
    // (m = 0..15) takes group 4b + m/4, the group its int32 lane belongs to.
    const __m512 sw = avx512::load_bf16x16(sr + gc, ng);
    __m512 sc[T];
    for (int j = 0; j < T; j++) {
      sc[j] = _mm512_mul_ps(sw, _mm512_loadu_ps(d[j] + gc));
      corr[j] = _mm512_fmadd_ps(sw, _mm512_loadu_ps(ds[j] + gc), corr[j]);
    }
#pragma GCC unroll 4
    for (int bb = 0; bb < 4; bb++) {
      const int left = ng - 4 * bb;
      if (left <= 0) break;
      const int blk = gc / 4 + bb;
      if (kPrefetchBytes > 0) _mm_prefetch(reinterpret_cast<const char*>(pr + static_cast<size_t>(blk) * 64 + kPrefetchBytes), _MM_HINT_T0);
      const __m512i wv = left >= 4 ? _mm512_loadu_si512(pr + static_cast<size_t>(blk) * 64)
                                   : _mm512_maskz_loadu_epi8((1ull << (16 * left)) - 1, pr + static_cast<size_t>(blk) * 64);
      const __m512i wl = _mm512_and_si512(wv, nib);
      const __m512i wh = _mm512_and_si512(_mm512_srli_epi16(wv, 4), nib);
      const __m512i lane = _mm512_setr_epi32(4 * bb, 4 * bb, 4 * bb, 4 * bb, 4 * bb + 1, 4 * bb + 1, 4 * bb + 1, 4 * bb + 1,
                                             4 * bb + 2, 4 * bb + 2, 4 * bb + 2, 4 * bb + 2, 4 * bb + 3, 4 * bb + 3, 4 * bb + 3, 4 * bb + 3);
      for (int j = 0; j < T; j++) {
        const int8_t* a = q[j] + static_cast<size_t>(blk) * 256;
        __m512i hi = _mm512_dpbusd_epi32(zero, wl, _mm512_loadu_si512(a));
        hi = _mm512_dpbusd_epi32(hi, wh, _mm512_loadu_si512(a + 64));
        __m512i lo = _mm512_dpbusd_epi32(zero, _mm512_loadu_si512(a + 128), wl);
        lo = _mm512_dpbusd_epi32(lo, _mm512_loadu_si512(a + 192), wh);
        const __m512 dot = _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_slli_epi32(hi, 8), lo));
        acc[j][bb & 1] = _mm512_fmadd_ps(dot, _mm512_permutexvar_ps(lane, sc[j]), acc[j][bb & 1]);
      }
    }
  }
  for (int j = 0; j < T; j++)
    y[static_cast<size_t>(t0 + j) * ldy + r] = _mm512_reduce_add_ps(_mm512_add_ps(acc[j][0], acc[j][1])) - _mm512_reduce_add_ps(corr[j]);
}

// One token row against four weight rows r..r+3: decode's case. The token's four activation
// vectors per block are loaded once for all four rows, the four rows' sums are reduced together,
// and the zero-point correction folds into the accumulators, which matters most for the short
// rows of the experts' down projections (K2: 2048 columns; the bench model: 480).
inline void vnni_rows4_t1(const Q16Rows& x, const Int4Matrix& w, int r, float* y) {
  const int K = w.cols, G = K / 32;
  const size_t row_bytes = static_cast<size_t>(K) / 2;
  const uint8_t* pr = reinterpret_cast<const uint8_t*>(w.packed) + static_cast<size_t>(r) * row_bytes;
  const uint16_t* sr = w.scales + static_cast<size_t>(r) * G;
  const __m512i nib = _mm512_set1_epi8(0x0F), zero = _mm512_setzero_si512();
  const int8_t* q = reinterpret_cast<const int8_t*>(x.qs);
  __m512 acc[4];
  for (int i = 0; i < 4; i++) acc[i] = _mm512_setzero_ps();
  // Prefetch runs kPrefetchRows rows ahead: the rows of a later call, in the order this one reads
  // its own, so each of the four row streams stays the same distance ahead (the scales too).
  const char* next_scales = reinterpret_cast<const char*>(sr + kPrefetchRows * static_cast<size_t>(G));
  for (int b = 0; b < 2 * 4 * G; b += 64) _mm_prefetch(next_scales + b, _MM_HINT_T0);
  const size_t pf_off = kPrefetchRows * row_bytes;
  for (int gc = 0; gc < G; gc += 16) {
    const int ng = std::min(16, G - gc);
    const __m512 da = _mm512_loadu_ps(x.d + gc), dsa = _mm512_loadu_ps(x.dsum8 + gc);
    __m512 sc[4];
    for (int i = 0; i < 4; i++) {
      const __m512 sw = avx512::load_bf16x16(sr + static_cast<size_t>(i) * G + gc, ng);
      sc[i] = _mm512_mul_ps(sw, da);
      acc[i] = _mm512_fnmadd_ps(sw, dsa, acc[i]);
    }
#pragma GCC unroll 4
    for (int bb = 0; bb < 4; bb++) {
      const int left = ng - 4 * bb;
      if (left <= 0) break;
      const int blk = gc / 4 + bb;
      const int8_t* a = q + static_cast<size_t>(blk) * 256;
      const __m512i a0 = _mm512_loadu_si512(a), a1 = _mm512_loadu_si512(a + 64);
      const __m512i a2 = _mm512_loadu_si512(a + 128), a3 = _mm512_loadu_si512(a + 192);
      const __m512i lane = _mm512_setr_epi32(4 * bb, 4 * bb, 4 * bb, 4 * bb, 4 * bb + 1, 4 * bb + 1, 4 * bb + 1, 4 * bb + 1,
                                             4 * bb + 2, 4 * bb + 2, 4 * bb + 2, 4 * bb + 2, 4 * bb + 3, 4 * bb + 3, 4 * bb + 3, 4 * bb + 3);
      const __mmask64 m = left >= 4 ? ~0ull : (1ull << (16 * left)) - 1;
      for (int i = 0; i < 4; i++) {
        const uint8_t* p = pr + i * row_bytes + static_cast<size_t>(blk) * 64;
        _mm_prefetch(reinterpret_cast<const char*>(p + pf_off), _MM_HINT_T0);
        const __m512i wv = _mm512_maskz_loadu_epi8(m, p);
        const __m512i wl = _mm512_and_si512(wv, nib);
        const __m512i wh = _mm512_and_si512(_mm512_srli_epi16(wv, 4), nib);
        __m512i hi = _mm512_dpbusd_epi32(zero, wl, a0);
        hi = _mm512_dpbusd_epi32(hi, wh, a1);
        __m512i lo = _mm512_dpbusd_epi32(zero, a2, wl);
        lo = _mm512_dpbusd_epi32(lo, a3, wh);
        const __m512 dot = _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_slli_epi32(hi, 8), lo));
        acc[i] = _mm512_fmadd_ps(dot, _mm512_permutexvar_ps(lane, sc[i]), acc[i]);
      }
    }
  }
  _mm_storeu_ps(y + r, avx512::reduce4(acc[0], acc[1], acc[2], acc[3]));
}

}  // namespace

void int4_q16_rows_vnni_avx512(const Q16Rows& x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1) {
  if (n == 1)
    for (; r0 + 4 <= r1; r0 += 4) vnni_rows4_t1(x, w, r0, y);
  for (int r = r0; r < r1; r++) {
    int t = 0;
    for (; t + 4 <= n; t += 4) vnni_row<4>(x, t, w, r, y, ldy);
    switch (n - t) {
      case 3: vnni_row<3>(x, t, w, r, y, ldy); break;
      case 2: vnni_row<2>(x, t, w, r, y, ldy); break;
      case 1: vnni_row<1>(x, t, w, r, y, ldy); break;
      default: break;
    }
  }
}

}  // namespace k2
K2_AVX512_END
#endif
