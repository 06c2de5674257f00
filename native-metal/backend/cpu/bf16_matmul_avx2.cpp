// BF16 weights × f32 activations, AVX2+FMA. A block of R weight rows × T token rows keeps R·T
// accumulators in registers, so each weight vector converted from bf16 feeds T FMAs and each
// activation vector feeds R FMAs.
#if defined(__x86_64__)
#include "backend/cpu/simd_avx2.h"
#include "backend/cpu/cpu_kernels.h"

K2_AVX2_BEGIN
namespace k2 {
namespace {

template <int R, int T>
inline void block(const float* x, int K, const uint16_t* w, float* y, int ldy) {
  __m256 acc[R][T];
  for (int i = 0; i < R; i++)
    for (int j = 0; j < T; j++) acc[i][j] = _mm256_setzero_ps();
  int k = 0;
  for (; k + 8 <= K; k += 8) {
    __m256 xv[T];
    for (int j = 0; j < T; j++) xv[j] = _mm256_loadu_ps(x + static_cast<size_t>(j) * K + k);
    for (int i = 0; i < R; i++) {
      // Decode: each row in flight prefetches the same line of the row R further on, the one the
      // next block reads at this point, so every stream runs a whole block ahead (once per cache
      // line). Measured on the benchmark model's decode, alternated runs: 56.6 -> 69.5 tok/s
      // median against 1 KB ahead in the same row (which had given 25.6 -> 28 GB/s over none);
      // two blocks ahead, 63.0; in-process pairs (bench/ab_decode) 4 or 8 rows further than
      // one block: 1.000, 0.988. On par with an AVX-512 version of this kernel, hence none.
      if (T == 1 && (k & 31) == 0) _mm_prefetch(reinterpret_cast<const char*>(w + static_cast<size_t>(i + R) * K + k), _MM_HINT_T0);
      __m256 wv = avx2::load_bf16(w + static_cast<size_t>(i) * K + k);
      for (int j = 0; j < T; j++) acc[i][j] = _mm256_fmadd_ps(wv, xv[j], acc[i][j]);
    }
  }
  for (int i = 0; i < R; i++)
    for (int j = 0; j < T; j++) {
      float s = avx2::hsum(acc[i][j]);
      for (int kk = k; kk < K; kk++) s += bf16_to_f32(w[static_cast<size_t>(i) * K + kk]) * x[static_cast<size_t>(j) * K + kk];
      y[static_cast<size_t>(j) * ldy + i] = s;
    }
}

template <int R>
inline void rows_block(const float* x, int n, int K, const uint16_t* w, float* y, int ldy) {
  int t = 0;
  for (; t + 4 <= n; t += 4) block<R, 4>(x + static_cast<size_t>(t) * K, K, w, y + static_cast<size_t>(t) * ldy, ldy);
  for (; t < n; t++) block<R, 1>(x + static_cast<size_t>(t) * K, K, w, y + static_cast<size_t>(t) * ldy, ldy);
}

}  // namespace

void bf16_rows_avx2(const float* x, int n, const Bf16Matrix& w, float* y, int ldy, int r0, int r1) {
  const int K = w.cols;
  // Token chunks bounded so the chunk's activations stay in L2 while the weight rows stream.
  const int chunk = n <= 64 ? n : 32;
  for (int t0 = 0; t0 < n; t0 += chunk) {
    const int nt = n - t0 < chunk ? n - t0 : chunk;
    const float* xc = x + static_cast<size_t>(t0) * K;
    float* yc = y + static_cast<size_t>(t0) * ldy;
    int r = r0;
    if (nt == 1) {
      // Decode: eight weight rows in flight keep enough independent loads and FMA chains to stream.
      for (; r + 8 <= r1; r += 8) block<8, 1>(xc, K, w.data + static_cast<size_t>(r) * K, yc + r, ldy);
      for (; r + 4 <= r1; r += 4) block<4, 1>(xc, K, w.data + static_cast<size_t>(r) * K, yc + r, ldy);
    } else {
      for (; r + 2 <= r1; r += 2) rows_block<2>(xc, nt, K, w.data + static_cast<size_t>(r) * K, yc + r, ldy);
    }
    for (; r < r1; r++) rows_block<1>(xc, nt, K, w.data + static_cast<size_t>(r) * K, yc + r, ldy);
  }
}

float dot_bf16_avx2(const uint16_t* w, const float* x, int n) {
  __m256 acc = _mm256_setzero_ps();
  int k = 0;
  for (; k + 8 <= n; k += 8) acc = _mm256_fmadd_ps(avx2::load_bf16(w + k), _mm256_loadu_ps(x + k), acc);
  float s = avx2::hsum(acc);
  for (; k < n; k++) s += bf16_to_f32(w[k]) * x[k];
  return s;
}

void axpy_bf16_avx2(float a, const uint16_t* w, float* y, int n) {
  const __m256 av = _mm256_set1_ps(a);
  int k = 0;
  for (; k + 8 <= n; k += 8) _mm256_storeu_ps(y + k, _mm256_fmadd_ps(av, avx2::load_bf16(w + k), _mm256_loadu_ps(y + k)));
  for (; k < n; k++) y[k] += a * bf16_to_f32(w[k]);
}

float dot_avx2(const float* a, const float* b, int n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int k = 0;
  for (; k + 16 <= n; k += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 8), _mm256_loadu_ps(b + k + 8), acc1);
  }
  for (; k + 8 <= n; k += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), acc0);
  float s = avx2::hsum(_mm256_add_ps(acc0, acc1));
  for (; k < n; k++) s += a[k] * b[k];
  return s;
}

void axpy_avx2(float a, const float* x, float* y, int n) {
  const __m256 av = _mm256_set1_ps(a);
  int k = 0;
  for (; k + 8 <= n; k += 8) _mm256_storeu_ps(y + k, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + k), _mm256_loadu_ps(y + k)));
  for (; k < n; k++) y[k] += a * x[k];
}

}  // namespace k2
K2_AVX2_END
#endif
