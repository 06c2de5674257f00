// INT4 (group 32) weights × activations, AVX2+FMA. Weights stay packed: each 16-byte group is
// unpacked in registers (low nibbles = even elements, high = odd) right before use.
#if defined(__x86_64__)
#include <vector>

#include "backend/cpu/simd_avx2.h"
#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/scratch_floats.h"

K2_AVX2_BEGIN
namespace k2 {
namespace {

// Software prefetch distance of the decode matvecs (see int4_vnni_avx512.cpp: rows are
// contiguous, and decode's row ranges are too short for the hardware prefetcher alone).
constexpr int kPrefetchBytes = 1024;

// x of one token rearranged into the order the nibbles unpack to (per group of 32: even elements
// 0..14, odd 1..15, even 16..30, odd 17..31) into xp, and 8·Σx per group into x8 (G+8 entries,
// zero-padded), which removes the +8 offset of the unsigned nibbles once per group instead of
// once per weight.
inline void nibble_order_x(const float* x, int K, float* xp, float* x8) {
  const int G = K / 32;
  const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
  for (int g = 0; g < G; g++) {
    const float* xg = x + g * 32;
    float* o = xp + g * 32;
    for (int h = 0; h < 2; h++) {
      // Two vectors of 8 → their even lanes then their odd lanes.
      const __m256 a = _mm256_permutevar8x32_ps(_mm256_loadu_ps(xg + 16 * h), even);
      const __m256 b = _mm256_permutevar8x32_ps(_mm256_loadu_ps(xg + 16 * h + 8), even);
      _mm256_storeu_ps(o + 16 * h, _mm256_permute2f128_ps(a, b, 0x20));
      _mm256_storeu_ps(o + 16 * h + 8, _mm256_permute2f128_ps(a, b, 0x31));
    }
    const __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(xg), _mm256_loadu_ps(xg + 8)),
                                   _mm256_add_ps(_mm256_loadu_ps(xg + 16), _mm256_loadu_ps(xg + 24)));
    x8[g] = 8.0f * avx2::hsum(s);
  }
  for (int g = G; g < G + 8; g++) x8[g] = 0;
}

// The matvecs' per-row prologue: sc[g] = s_g · act_scale[g] (the weight scale alone when
// act_scale is null) for every group g of the row, and the returned Σ_g s_g · offset[g], which
// removes the +8 of the unsigned nibbles from the row's sum.
inline float row_scales(const uint16_t* sr, int G, const float* act_scale, const float* offset, float* sc) {
  __m256 corr = _mm256_setzero_ps();
  int g = 0;
  for (; g + 8 <= G; g += 8) {
    const __m256 sw = avx2::load_bf16(sr + g);
    _mm256_storeu_ps(sc + g, act_scale ? _mm256_mul_ps(sw, _mm256_loadu_ps(act_scale + g)) : sw);
    corr = _mm256_fmadd_ps(sw, _mm256_loadu_ps(offset + g), corr);
  }
  float tail = 0;
  for (; g < G; g++) {
    const float s = bf16_to_f32(sr[g]);
    sc[g] = act_scale ? s * act_scale[g] : s;
    tail += s * offset[g];
  }
  return avx2::hsum(corr) + tail;
}

// Σ_i q_i·x_i of one group (q = unsigned nibbles): 8 bytes zero-extended to 8 lanes give 8 even
// elements (low nibbles) and, shifted, 8 odd ones — no byte shuffles, no offset subtraction.
inline void group_dot(const uint8_t* p, const float* xp, __m256& t, __m256& u) {
  const __m256i m = _mm256_set1_epi32(0x0F);
  const __m256i a = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  const __m256i b = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 8)));
  t = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_and_si256(a, m)), _mm256_loadu_ps(xp));
  u = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(a, 4)), _mm256_loadu_ps(xp + 8));
  t = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(b, m)), _mm256_loadu_ps(xp + 16), t);
  u = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(b, 4)), _mm256_loadu_ps(xp + 24), u);
}

// T token rows (in nibble order, K apart) against one weight row: each group is unpacked to four
// vectors of (q − 8)·s once (one fmsub each) and multiplied into every row; A accumulators per
// row keep enough FMA chains in flight when T is small.
template <int T, int A>
inline void nibble_block(const float* xp, int K, const uint8_t* pr, const uint16_t* sr, float* y, int ldy) {
  const int G = K / 32;
  const __m256i m = _mm256_set1_epi32(0x0F);
  __m256 acc[T][A];
  for (int j = 0; j < T; j++)
    for (int a = 0; a < A; a++) acc[j][a] = _mm256_setzero_ps();
  for (int g = 0; g < G; g++) {
    const __m256 s = _mm256_set1_ps(bf16_to_f32(sr[g]));
    const __m256 s8 = _mm256_mul_ps(s, _mm256_set1_ps(8.0f));
    const uint8_t* p = pr + g * 16;
    const __m256i a = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
    const __m256i b = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 8)));
    __m256 wv[4];
    wv[0] = _mm256_fmsub_ps(_mm256_cvtepi32_ps(_mm256_and_si256(a, m)), s, s8);
    wv[1] = _mm256_fmsub_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(a, 4)), s, s8);
    wv[2] = _mm256_fmsub_ps(_mm256_cvtepi32_ps(_mm256_and_si256(b, m)), s, s8);
    wv[3] = _mm256_fmsub_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(b, 4)), s, s8);
#pragma GCC unroll 8
    for (int j = 0; j < T; j++) {
      const float* xg = xp + static_cast<size_t>(j) * K + g * 32;
#pragma GCC unroll 4
      for (int v = 0; v < 4; v++) acc[j][v % A] = _mm256_fmadd_ps(wv[v], _mm256_loadu_ps(xg + 8 * v), acc[j][v % A]);
    }
  }
  for (int j = 0; j < T; j++) {
    __m256 sum = acc[j][0];
    for (int a = 1; a < A; a++) sum = _mm256_add_ps(sum, acc[j][a]);
    y[static_cast<size_t>(j) * ldy] = avx2::hsum(sum);
  }
}

// One token (decode): y[r] = Σ_g s_g·(Σ q·x − 8·Σx). Two groups per step into four independent
// accumulators keep the FMA latency hidden; the row's scales are converted to f32 once so each
// group's scale is a broadcast load.
void int4_matvec_f32(const float* x, const Int4Matrix& w, float* y, int r0, int r1) {
  const int K = w.cols, G = K / 32;
  ScratchFloats<8192> scratch(K + 2 * (G + 8));
  float* xp = scratch.data();
  float* x8 = xp + K;
  float* sf = x8 + G + 8;
  nibble_order_x(x, K, xp, x8);
  for (int r = r0; r < r1; r++) {
    const uint8_t* pr = reinterpret_cast<const uint8_t*>(w.packed + static_cast<size_t>(r) * (K / 8));
    const uint16_t* sr = w.scales + static_cast<size_t>(r) * G;
    const float corr = row_scales(sr, G, nullptr, x8, sf);
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int g = 0;
    for (; g + 2 <= G; g += 2) {
      _mm_prefetch(reinterpret_cast<const char*>(pr + g * 16 + kPrefetchBytes), _MM_HINT_T0);
      __m256 t, u;
      group_dot(pr + g * 16, xp + g * 32, t, u);
      const __m256 s0 = _mm256_broadcast_ss(sf + g);
      a0 = _mm256_fmadd_ps(t, s0, a0);
      a1 = _mm256_fmadd_ps(u, s0, a1);
      group_dot(pr + (g + 1) * 16, xp + (g + 1) * 32, t, u);
      const __m256 s1 = _mm256_broadcast_ss(sf + g + 1);
      a2 = _mm256_fmadd_ps(t, s1, a2);
      a3 = _mm256_fmadd_ps(u, s1, a3);
    }
    if (g < G) {
      __m256 t, u;
      group_dot(pr + g * 16, xp + g * 32, t, u);
      const __m256 s0 = _mm256_broadcast_ss(sf + g);
      a0 = _mm256_fmadd_ps(t, s0, a0);
      a1 = _mm256_fmadd_ps(u, s0, a1);
    }
    y[r] = avx2::hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3))) - corr;
  }
}

}  // namespace

void int4_rows_avx2(const float* x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1) {
  const int K = w.cols, G = K / 32;
  if (n == 1) {
    int4_matvec_f32(x, w, y, r0, r1);
    return;
  }
  // A few token rows (prefill's small expert groups): every token row in nibble order once, then
  // each weight group is unpacked and scaled once and feeds all the rows of a block.
  ScratchFloats<16384> scratch(static_cast<size_t>(n) * K + G + 8);
  float* xp = scratch.data();
  float* x8 = xp + static_cast<size_t>(n) * K;  // unused here: the offset is removed while unpacking
  for (int t = 0; t < n; t++) nibble_order_x(x + static_cast<size_t>(t) * K, K, xp + static_cast<size_t>(t) * K, x8);
  for (int r = r0; r < r1; r++) {
    const uint8_t* pr = reinterpret_cast<const uint8_t*>(w.packed + static_cast<size_t>(r) * (K / 8));
    const uint16_t* sr = w.scales + static_cast<size_t>(r) * G;
    int t = 0;
    for (; t + 8 <= n; t += 8) nibble_block<8, 1>(xp + static_cast<size_t>(t) * K, K, pr, sr, y + static_cast<size_t>(t) * ldy + r, ldy);
    for (; t + 4 <= n; t += 4) nibble_block<4, 2>(xp + static_cast<size_t>(t) * K, K, pr, sr, y + static_cast<size_t>(t) * ldy + r, ldy);
    switch (n - t) {
      case 3: nibble_block<3, 2>(xp + static_cast<size_t>(t) * K, K, pr, sr, y + static_cast<size_t>(t) * ldy + r, ldy); break;
      case 2: nibble_block<2, 2>(xp + static_cast<size_t>(t) * K, K, pr, sr, y + static_cast<size_t>(t) * ldy + r, ldy); break;
      case 1: nibble_block<1, 2>(xp + static_cast<size_t>(t) * K, K, pr, sr, y + static_cast<size_t>(t) * ldy + r, ldy); break;
      default: break;
    }
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
    q[j] = x.qs + static_cast<size_t>(t0 + j) * x.row_elems;
    d[j] = x.d + static_cast<size_t>(t0 + j) * x.row_groups;
    ds[j] = x.dsum8 + static_cast<size_t>(t0 + j) * x.row_groups;
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
      int16_t* q = out.qs + row * out.row_elems + g * 32;
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), _mm256_permute4x64_epi64(_mm256_packs_epi32(ie0, io0), 0xD8));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + 16), _mm256_permute4x64_epi64(_mm256_packs_epi32(ie1, io1), 0xD8));
      __m256i sum = _mm256_add_epi32(_mm256_add_epi32(ie0, io0), _mm256_add_epi32(ie1, io1));
      __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
      s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
      s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
      out.dsum8[row * out.row_groups + g] = 8.0f * d * static_cast<float>(_mm_cvtsi128_si32(s4));
      out.d[row * out.row_groups + g] = d;
    }
  }
}

namespace {

// One token (decode), int16 activations: as q16_block<1> but with the combined weight ×
// activation scales of the row precomputed, so each group's scale is a broadcast load, and two
// groups per step into independent accumulators, so the loop is not bound by FMA latency.
void int4_q16_matvec(const Q16Rows& x, const Int4Matrix& w, float* y, int r0, int r1) {
  const int K = w.cols, G = K / 32;
  ScratchFloats<512> scratch(G + 8);
  float* sc = scratch.data();
  const __m256i m = _mm256_set1_epi8(0x0F), zero = _mm256_setzero_si256();
  const __m256i shift = _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4);
  const int16_t* q = x.qs;
  auto dot = [&](const uint8_t* p, const int16_t* qg) {
    const __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    const __m256i u = _mm256_and_si256(_mm256_srlv_epi32(v, shift), m);
    const __m256i lo = _mm256_unpacklo_epi8(u, zero), hi = _mm256_unpackhi_epi8(u, zero);
    return _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_madd_epi16(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qg))),
                                               _mm256_madd_epi16(hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qg + 16)))));
  };
  for (int r = r0; r < r1; r++) {
    const uint8_t* pr = reinterpret_cast<const uint8_t*>(w.packed + static_cast<size_t>(r) * (K / 8));
    const uint16_t* sr = w.scales + static_cast<size_t>(r) * G;
    const float corr = row_scales(sr, G, x.d, x.dsum8, sc);
    __m256 a0 = _mm256_setzero_ps(), a1 = a0;
    int g = 0;
    for (; g + 2 <= G; g += 2) {
      _mm_prefetch(reinterpret_cast<const char*>(pr + g * 16 + kPrefetchBytes), _MM_HINT_T0);
      a0 = _mm256_fmadd_ps(dot(pr + g * 16, q + g * 32), _mm256_broadcast_ss(sc + g), a0);
      a1 = _mm256_fmadd_ps(dot(pr + (g + 1) * 16, q + (g + 1) * 32), _mm256_broadcast_ss(sc + g + 1), a1);
    }
    if (g < G) a0 = _mm256_fmadd_ps(dot(pr + g * 16, q + g * 32), _mm256_broadcast_ss(sc + g), a0);
    y[r] = avx2::hsum(_mm256_add_ps(a0, a1)) - corr;
  }
}

}  // namespace

void int4_q16_rows_avx2(const Q16Rows& x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1) {
  const int K = w.cols, G = K / 32;
  if (n == 1) {
    int4_q16_matvec(x, w, y, r0, r1);
    return;
  }
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
