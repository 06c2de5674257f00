// BF16 weights × f32 activations for one token (decode), AVX-512. A bf16 pair in an int32 lane is
// two floats away from f32: the high half masked is the odd element exactly, the low half
// shifted up 16 bits is the even one. With the activations split into even and odd halves once
// per call, 32 weights cost one load, an AND, a shift and two FMAs, against the AVX2 kernel's
// widening load + shift + FMA per 8. Several token rows (prefill) stay on the AVX2 kernels, whose
// register blocking already reuses each converted weight vector across tokens.
#if defined(__x86_64__)
#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/scratch_floats.h"
#include "backend/cpu/simd_avx512.h"

K2_AVX512_BEGIN
namespace k2 {
namespace {

// R weight rows against the split activations xe/xo (K32 = whole 32-element chunks of K). Eight
// rows in flight plus a software prefetch 1 KB ahead in each: measured on Zen 5, a single core
// streams bf16 rows at ~24 GB/s with four rows and no prefetch, ~30 with this (the hardware
// prefetcher alone keeps too few lines in flight for one core to reach its share of bandwidth).
constexpr int kPrefetchElems = 512;

template <int R>
inline void rows_even_odd(const float* xe, const float* xo, const float* x, int K, int K32, const uint16_t* w, float* y) {
  const __m512i hi_mask = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
  __m512 ae[R], ao[R];
  for (int i = 0; i < R; i++) ae[i] = ao[i] = _mm512_setzero_ps();
  for (int k = 0; k < K32; k += 32) {
    const __m512 ve = _mm512_loadu_ps(xe + k / 2), vo = _mm512_loadu_ps(xo + k / 2);
#pragma GCC unroll 8
    for (int i = 0; i < R; i++) {
      // Past the row's end this touches the next rows, which are read next anyway; prefetches
      // never fault.
      _mm_prefetch(reinterpret_cast<const char*>(w + static_cast<size_t>(i) * K + k + kPrefetchElems), _MM_HINT_T0);
      const __m512i wv = _mm512_loadu_si512(w + static_cast<size_t>(i) * K + k);
      ae[i] = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(wv, 16)), ve, ae[i]);
      ao[i] = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(wv, hi_mask)), vo, ao[i]);
    }
  }
  for (int i = 0; i < R; i++) {
    float s = _mm512_reduce_add_ps(_mm512_add_ps(ae[i], ao[i]));
    for (int k = K32; k < K; k++) s += bf16_to_f32(w[static_cast<size_t>(i) * K + k]) * x[k];
    y[i] = s;
  }
}

}  // namespace

void bf16_rows_avx512(const float* x, int n, const Bf16Matrix& w, float* y, int ldy, int r0, int r1) {
  if (n != 1) {
    bf16_rows_avx2(x, n, w, y, ldy, r0, r1);
    return;
  }
  const int K = w.cols, K32 = K / 32 * 32;
  ScratchFloats<8192> scratch(K32);
  float* xe = scratch.data();
  float* xo = xe + K32 / 2;
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  for (int k = 0; k < K32; k += 32) {
    const __m512 a = _mm512_loadu_ps(x + k), b = _mm512_loadu_ps(x + k + 16);
    _mm512_storeu_ps(xe + k / 2, _mm512_permutex2var_ps(a, even, b));
    _mm512_storeu_ps(xo + k / 2, _mm512_permutex2var_ps(a, odd, b));
  }
  int r = r0;
  for (; r + 8 <= r1; r += 8) rows_even_odd<8>(xe, xo, x, K, K32, w.data + static_cast<size_t>(r) * K, y + r);
  for (; r + 4 <= r1; r += 4) rows_even_odd<4>(xe, xo, x, K, K32, w.data + static_cast<size_t>(r) * K, y + r);
  for (; r < r1; r++) rows_even_odd<1>(xe, xo, x, K, K32, w.data + static_cast<size_t>(r) * K, y + r);
}

}  // namespace k2
K2_AVX512_END
#endif
