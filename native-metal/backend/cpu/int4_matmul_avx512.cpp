// Exact-mode INT4 (group 32) × f32 activations for one token (decode), AVX-512. Exact mode keeps
// f32 activations, so every weight is converted to float; AVX-512 does a whole group per step:
// its 16 packed bytes zero-extend to 16 int32 lanes, a mask gives the 16 even elements (low
// nibbles) and a shift the 16 odd ones, against activations stored per group as 16 even then 16
// odd values. About 9 instructions per group against the AVX2 kernel's ~14. As there, the nibbles
// stay unsigned and the +8 offset is removed once per row through 8·Σx per group. Several token
// rows (prefill's small expert groups) stay on the AVX2 kernel, which reuses each unpacked group
// across the rows.
#if defined(__x86_64__)
#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/scratch_floats.h"
#include "backend/cpu/simd_avx512.h"

K2_AVX512_BEGIN
namespace k2 {
namespace {

// Same distance as the other decode matvecs (int4_vnni_avx512.cpp explains it).
constexpr int kPrefetchBytes = 1024;

}  // namespace

void int4_rows_avx512(const float* x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1) {
  if (n != 1) {
    int4_rows_avx2(x, n, w, y, ldy, r0, r1);
    return;
  }
  const int K = w.cols, G = K / 32, G16 = (G + 15) / 16 * 16;
  ScratchFloats<8192> scratch(static_cast<size_t>(K) + 2 * G16);
  float* xp = scratch.data();  // per group: 16 even elements, then 16 odd
  float* x8 = xp + K;          // 8·Σx per group, zero-padded to whole 16s
  float* sf = x8 + G16;        // the row's weight scales as f32
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  for (int g = 0; g < G; g++) {
    const __m512 a = _mm512_loadu_ps(x + g * 32), b = _mm512_loadu_ps(x + g * 32 + 16);
    _mm512_storeu_ps(xp + g * 32, _mm512_permutex2var_ps(a, even, b));
    _mm512_storeu_ps(xp + g * 32 + 16, _mm512_permutex2var_ps(a, odd, b));
    x8[g] = 8.0f * _mm512_reduce_add_ps(_mm512_add_ps(a, b));
  }
  for (int g = G; g < G16; g++) x8[g] = 0.0f;
  const __m512i nib = _mm512_set1_epi32(0x0F);
  for (int r = r0; r < r1; r++) {
    const uint8_t* pr = reinterpret_cast<const uint8_t*>(w.packed + static_cast<size_t>(r) * (K / 8));
    const uint16_t* sr = w.scales + static_cast<size_t>(r) * G;
    __m512 corr = _mm512_setzero_ps();
    for (int g = 0; g < G; g += 16) {
      const __m512 s = avx512::load_bf16x16(sr + g, G - g);
      _mm512_storeu_ps(sf + g, s);
      corr = _mm512_fmadd_ps(s, _mm512_loadu_ps(x8 + g), corr);
    }
    __m512 a0 = _mm512_setzero_ps(), a1 = a0;
    auto group = [&](int g, __m512& acc) {
      const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(pr + g * 16)));
      __m512 t = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_and_si512(v, nib)), _mm512_loadu_ps(xp + g * 32));
      t = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(v, 4)), _mm512_loadu_ps(xp + g * 32 + 16), t);
      acc = _mm512_fmadd_ps(t, _mm512_set1_ps(sf[g]), acc);
    };
    int g = 0;
    for (; g + 4 <= G; g += 4) {
      _mm_prefetch(reinterpret_cast<const char*>(pr + g * 16 + kPrefetchBytes), _MM_HINT_T0);
      group(g, a0);
      group(g + 1, a1);
      group(g + 2, a0);
      group(g + 3, a1);
    }
    for (; g < G; g++) group(g, a0);
    y[r] = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1)) - _mm512_reduce_add_ps(corr);
  }
}

}  // namespace k2
K2_AVX512_END
#endif
