// Helpers shared by the AVX-512 kernel files. Include only from files compiled for the AVX-512
// tier (they open with K2_AVX512_BEGIN); cpu_kernel_table.cpp picks that tier only on CPUs that
// report every feature named here.
#pragma once

#if defined(__x86_64__)
#if !defined(__clang__)
// GCC 12's _mm512_reduce_*, unpack and extract intrinsics start from _mm512_undefined_*() and
// trip -W(maybe-)uninitialized inside immintrin.h itself.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include <cstdint>

#define K2_AVX512_TARGET "avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,bmi2"
#if defined(__clang__)
#define K2_AVX512_BEGIN \
  _Pragma("clang attribute push(__attribute__((target(\"avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,bmi2\"))), apply_to = function)")
#define K2_AVX512_END _Pragma("clang attribute pop")
#else
#define K2_AVX512_BEGIN _Pragma("GCC push_options") _Pragma("GCC target(\"avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,bmi2\")")
#define K2_AVX512_END _Pragma("GCC pop_options")
#endif

K2_AVX512_BEGIN
namespace k2 {
namespace avx512 {

// The first n of 16 bf16 values → 16 floats (lanes past n are 0; nothing past n is read).
static inline __m512 load_bf16x16(const uint16_t* p, int n) {
  const __mmask16 m = n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p)), 16));
}


// Four horizontal sums at once: lane i of the result is the sum of v[i]'s 16 lanes.
static inline __m128 reduce4(__m512 a0, __m512 a1, __m512 a2, __m512 a3) {
  const __m512 u0 = _mm512_add_ps(_mm512_unpacklo_ps(a0, a1), _mm512_unpackhi_ps(a0, a1));
  const __m512 u1 = _mm512_add_ps(_mm512_unpacklo_ps(a2, a3), _mm512_unpackhi_ps(a2, a3));
  const __m512 v = _mm512_add_ps(_mm512_shuffle_ps(u0, u1, _MM_SHUFFLE(1, 0, 1, 0)), _mm512_shuffle_ps(u0, u1, _MM_SHUFFLE(3, 2, 3, 2)));
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

}  // namespace avx512
}  // namespace k2
K2_AVX512_END
#endif
