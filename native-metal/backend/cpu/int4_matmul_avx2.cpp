// INT4 (group 32) weights × activations, AVX2+FMA. Weights stay packed: each 16-byte group is
// unpacked in registers (low nibbles = even elements, high = odd) right before use.
#if defined(__x86_64__)
#include <vector>

#include "backend/cpu/simd_avx2.h"
#include "backend/cpu/cpu_kernels.h"

K2_AVX2_BEGIN
namespace k2 {
namespace {

// 32 weights of one group as 4×8 floats, scaled, in element order.
inline void dequant_group(const uint32_t* p, float s, __m256 out[4]) {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i m = _mm_set1_epi8(0x0F), eight = _mm_set1_epi8(8);
  const __m128i lo = _mm_sub_epi8(_mm_and_si128(bytes, m), eight);
  const __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(bytes, 4), m), eight);
  const __m128i e0 = _mm_unpacklo_epi8(lo, hi);  // elements 0..15
  const __m128i e1 = _mm_unpackhi_epi8(lo, hi);  // elements 16..31
  const __m256 sv = _mm256_set1_ps(s);
  out[0] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(e0)), sv);
  out[1] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(e0, 8))), sv);
  out[2] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(e1)), sv);
  out[3] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(e1, 8))), sv);
}

template <int T>
inline void f32_block(const float* x, int K, const float* wrow, float* y, int ldy) {
  __m256 acc[T];
  for (int j = 0; j < T; j++) acc[j] = _mm256_setzero_ps();
  for (int k = 0; k < K; k += 8) {
    const __m256 wv = _mm256_loadu_ps(wrow + k);
    for (int j = 0; j < T; j++) acc[j] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + static_cast<size_t>(j) * K + k), acc[j]);
  }
  for (int j = 0; j < T; j++) y[static_cast<size_t>(j) * ldy] = avx2::hsum(acc[j]);
}

}  // namespace

void int4_rows_avx2(const float* x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1) {
  const int K = w.cols, G = K / 32;
  if (n == 1) {
    // Per group: Σ (q-8)·x over 32 inputs as one vector, then one FMA with the group's scale,
    // picked out of a vector of 8 scales.
    const __m128i m = _mm_set1_epi8(0x0F), eight = _mm_set1_epi8(8);
    for (int r = r0; r < r1; r++) {
      const uint8_t* pr = reinterpret_cast<const uint8_t*>(w.packed + static_cast<size_t>(r) * (K / 8));
      const uint16_t* sr = w.scales + static_cast<size_t>(r) * G;
      __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
      auto group = [&](int g, __m256 s) {
        const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(pr + g * 16));
        const __m128i lo = _mm_sub_epi8(_mm_and_si128(bytes, m), eight);
        const __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(bytes, 4), m), eight);
        const __m128i e0 = _mm_unpacklo_epi8(lo, hi), e1 = _mm_unpackhi_epi8(lo, hi);
        const float* xg = x + g * 32;
        __m256 t = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(e0)), _mm256_loadu_ps(xg));
        __m256 u = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(e0, 8))), _mm256_loadu_ps(xg + 8));
        t = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(e1)), _mm256_loadu_ps(xg + 16), t);
        u = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(e1, 8))), _mm256_loadu_ps(xg + 24), u);
        acc0 = _mm256_fmadd_ps(t, s, acc0);
        acc1 = _mm256_fmadd_ps(u, s, acc1);
      };
      int g = 0;
      for (; g + 8 <= G; g += 8) {
        const __m256 sv = avx2::load_bf16(sr + g);
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++) group(g + i, _mm256_permutevar8x32_ps(sv, _mm256_set1_epi32(i)));
      }
      for (; g < G; g++) group(g, _mm256_set1_ps(bf16_to_f32(sr[g])));
      y[r] = avx2::hsum(_mm256_add_ps(acc0, acc1));
    }
    return;
  }
  // Several token rows: dequantize each weight row once into L1, then reuse it for every token.
  thread_local std::vector<float> buf;
  if (buf.size() < static_cast<size_t>(K)) buf.resize(K);
  float* wrow = buf.data();
  for (int r = r0; r < r1; r++) {
    const uint32_t* pr = w.packed + static_cast<size_t>(r) * (K / 8);
    const uint16_t* sr = w.scales + static_cast<size_t>(r) * G;
    for (int g = 0; g < G; g++) {
      __m256 wv[4];
      dequant_group(pr + g * 4, bf16_to_f32(sr[g]), wv);
      for (int v = 0; v < 4; v++) _mm256_storeu_ps(wrow + g * 32 + v * 8, wv[v]);
    }
    int t = 0;
    for (; t + 4 <= n; t += 4) f32_block<4>(x + static_cast<size_t>(t) * K, K, wrow, y + static_cast<size_t>(t) * ldy + r, ldy);
    for (; t < n; t++) f32_block<1>(x + static_cast<size_t>(t) * K, K, wrow, y + static_cast<size_t>(t) * ldy + r, ldy);
  }
}

namespace {

// T token rows against one weight row. Per group the 16 packed bytes are loaded into both
// halves of a register and the upper half shifted by 4 bits, so one mask yields the even
// elements (low nibbles) in the low lane and the odd ones in the high lane; zero-extending the
// bytes in-lane gives the int16 order the activations are stored in (see Q16Rows). The nibbles
// stay unsigned (0..15); the +8 offset is removed once per group through dsum8. Weight and
// activation scales of 8 groups are multiplied as one vector and picked out with a lane permute.
template <int T>
inline void q16_block(const Q16Rows& x, int t0, int G, int K, const uint8_t* pr, const uint16_t* sr, float* y, int ldy) {
  __m256 acc[T], corr[T];
  for (int j = 0; j < T; j++) acc[j] = corr[j] = _mm256_setzero_ps();
  const __m256i m = _mm256_set1_epi8(0x0F), zero = _mm256_setzero_si256();
  const __m256i shift = _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4);
  const int16_t* q[T];
  const float* d[T];
  const float* ds[T];
  for (int j = 0; j < T; j++) {
    q[j] = x.qs + static_cast<size_t>(t0 + j) * K;
    d[j] = x.d + static_cast<size_t>(t0 + j) * G;
    ds[j] = x.dsum8 + static_cast<size_t>(t0 + j) * G;
  }
  auto unpack = [&](int g, __m256i& lo, __m256i& hi) {
    const __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(pr + g * 16)));
    const __m256i u = _mm256_and_si256(_mm256_srlv_epi32(v, shift), m);
    lo = _mm256_unpacklo_epi8(u, zero);  // e0..e7 | o0..o7
    hi = _mm256_unpackhi_epi8(u, zero);  // e8..e15 | o8..o15
  };
  int g = 0;
  for (; g + 8 <= G; g += 8) {
    const __m256 sw = avx2::load_bf16(sr + g);
    __m256 sc[T];
    for (int j = 0; j < T; j++) {
      sc[j] = _mm256_mul_ps(sw, _mm256_loadu_ps(d[j] + g));
      corr[j] = _mm256_fmadd_ps(sw, _mm256_loadu_ps(ds[j] + g), corr[j]);
    }
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
      __m256i lo, hi;
      unpack(g + i, lo, hi);
      const __m256i lane = _mm256_set1_epi32(i);
      for (int j = 0; j < T; j++) {
        const int16_t* qg = q[j] + (g + i) * 32;
        const __m256i p = _mm256_add_epi32(_mm256_madd_epi16(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qg))),
                                           _mm256_madd_epi16(hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qg + 16))));
        acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_permutevar8x32_ps(sc[j], lane), acc[j]);
      }
    }
  }
  float tail[T];
  for (int j = 0; j < T; j++) tail[j] = 0;
  for (; g < G; g++) {
    __m256i lo, hi;
    unpack(g, lo, hi);
    const float s = bf16_to_f32(sr[g]);
    for (int j = 0; j < T; j++) {
      const int16_t* qg = q[j] + g * 32;
      const __m256i p = _mm256_add_epi32(_mm256_madd_epi16(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qg))),
                                         _mm256_madd_epi16(hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qg + 16))));
      acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(s * d[j][g]), acc[j]);
      tail[j] += s * ds[j][g];
    }
  }
  for (int j = 0; j < T; j++) y[static_cast<size_t>(t0 + j) * ldy] = avx2::hsum(acc[j]) - avx2::hsum(corr[j]) - tail[j];
}

}  // namespace

// 8 even-indexed then 8 odd-indexed floats of a[0..16) (two vectors) as int32 vectors.
static inline void split_even_odd(__m256 a, __m256 b, __m256& even, __m256& odd) {
  const __m256i order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
  even = _mm256_permutevar8x32_ps(_mm256_shuffle_ps(a, b, 0x88), order);
  odd = _mm256_permutevar8x32_ps(_mm256_shuffle_ps(a, b, 0xDD), order);
}

void quantize_q16_avx2(const float* x, int n, int cols, Q16Rows& out, int row0) {
  const int G = cols / 32;
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  for (int t = 0; t < n; t++) {
    const size_t row = static_cast<size_t>(row0 + t);
    for (int g = 0; g < G; g++) {
      const float* xg = x + static_cast<size_t>(t) * cols + g * 32;
      const __m256 v0 = _mm256_loadu_ps(xg), v1 = _mm256_loadu_ps(xg + 8), v2 = _mm256_loadu_ps(xg + 16), v3 = _mm256_loadu_ps(xg + 24);
      __m256 mx = _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(v0, abs_mask), _mm256_and_ps(v1, abs_mask)),
                                _mm256_max_ps(_mm256_and_ps(v2, abs_mask), _mm256_and_ps(v3, abs_mask)));
      __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
      m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
      m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
      const float amax = _mm_cvtss_f32(m4);
      const float d = amax / 32767.0f;
      const __m256 id = _mm256_set1_ps(d > 0 ? 1.0f / d : 0.0f);
      __m256 e0, o0, e1, o1;
      split_even_odd(v0, v1, e0, o0);  // e0..e7, o0..o7
      split_even_odd(v2, v3, e1, o1);  // e8..e15, o8..o15
      // Round to nearest even, as the scalar reference's nearbyint does.
      const __m256i ie0 = _mm256_cvtps_epi32(_mm256_mul_ps(e0, id)), io0 = _mm256_cvtps_epi32(_mm256_mul_ps(o0, id));
      const __m256i ie1 = _mm256_cvtps_epi32(_mm256_mul_ps(e1, id)), io1 = _mm256_cvtps_epi32(_mm256_mul_ps(o1, id));
      int16_t* q = out.qs + row * cols + g * 32;
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), _mm256_permute4x64_epi64(_mm256_packs_epi32(ie0, io0), 0xD8));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + 16), _mm256_permute4x64_epi64(_mm256_packs_epi32(ie1, io1), 0xD8));
      __m256i sum = _mm256_add_epi32(_mm256_add_epi32(ie0, io0), _mm256_add_epi32(ie1, io1));
      __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
      s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
      s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
      out.dsum8[row * G + g] = 8.0f * d * static_cast<float>(_mm_cvtsi128_si32(s4));
      out.d[row * G + g] = d;
    }
  }
}

void int4_q16_rows_avx2(const Q16Rows& x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1) {
  const int K = w.cols, G = K / 32;
  for (int r = r0; r < r1; r++) {
    const uint8_t* pr = reinterpret_cast<const uint8_t*>(w.packed + static_cast<size_t>(r) * (K / 8));
    const uint16_t* sr = w.scales + static_cast<size_t>(r) * G;
    int t = 0;
    for (; t + 4 <= n; t += 4) q16_block<4>(x, t, G, K, pr, sr, y + r, ldy);
    for (; t < n; t++) q16_block<1>(x, t, G, K, pr, sr, y + r, ldy);
  }
}

}  // namespace k2
K2_AVX2_END
#endif
