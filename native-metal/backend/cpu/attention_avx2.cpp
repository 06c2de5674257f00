// The two inner loops of attention over the latent cache, AVX2+FMA: scores of one query against
// consecutive cache rows, and the probability-weighted sum of those rows. Four rows per step
// share each load of the query (or of the output) and keep four FMA chains in flight.
#if defined(__x86_64__)
#include "backend/cpu/simd_avx2.h"
#include "backend/cpu/cpu_kernels.h"

K2_AVX2_BEGIN
namespace k2 {

void dot_rows_avx2(const float* q, const float* rows, int n_rows, int len, float* out) {
  int r = 0;
  for (; r + 4 <= n_rows; r += 4) {
    const float* r0 = rows + static_cast<size_t>(r) * len;
    const float *r1 = r0 + len, *r2 = r1 + len, *r3 = r2 + len;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int k = 0;
    for (; k + 8 <= len; k += 8) {
      const __m256 qv = _mm256_loadu_ps(q + k);
      a0 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(r0 + k), a0);
      a1 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(r1 + k), a1);
      a2 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(r2 + k), a2);
      a3 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(r3 + k), a3);
    }
    float s0 = avx2::hsum(a0), s1 = avx2::hsum(a1), s2 = avx2::hsum(a2), s3 = avx2::hsum(a3);
    for (; k < len; k++) {
      s0 += q[k] * r0[k];
      s1 += q[k] * r1[k];
      s2 += q[k] * r2[k];
      s3 += q[k] * r3[k];
    }
    out[r] = s0, out[r + 1] = s1, out[r + 2] = s2, out[r + 3] = s3;
  }
  for (; r < n_rows; r++) out[r] = dot_avx2(q, rows + static_cast<size_t>(r) * len, len);
}

void axpy_rows_avx2(const float* coef, const float* rows, int n_rows, int len, float* y) {
  int r = 0;
  for (; r + 4 <= n_rows; r += 4) {
    const float* r0 = rows + static_cast<size_t>(r) * len;
    const float *r1 = r0 + len, *r2 = r1 + len, *r3 = r2 + len;
    const __m256 c0 = _mm256_set1_ps(coef[r]), c1 = _mm256_set1_ps(coef[r + 1]);
    const __m256 c2 = _mm256_set1_ps(coef[r + 2]), c3 = _mm256_set1_ps(coef[r + 3]);
    int k = 0;
    for (; k + 8 <= len; k += 8) {
      __m256 acc = _mm256_loadu_ps(y + k);
      acc = _mm256_fmadd_ps(c0, _mm256_loadu_ps(r0 + k), acc);
      acc = _mm256_fmadd_ps(c1, _mm256_loadu_ps(r1 + k), acc);
      acc = _mm256_fmadd_ps(c2, _mm256_loadu_ps(r2 + k), acc);
      acc = _mm256_fmadd_ps(c3, _mm256_loadu_ps(r3 + k), acc);
      _mm256_storeu_ps(y + k, acc);
    }
    for (; k < len; k++) y[k] += coef[r] * r0[k] + coef[r + 1] * r1[k] + coef[r + 2] * r2[k] + coef[r + 3] * r3[k];
  }
  for (; r < n_rows; r++) axpy_avx2(coef[r], rows + static_cast<size_t>(r) * len, y, len);
}

}  // namespace k2
K2_AVX2_END
#endif
