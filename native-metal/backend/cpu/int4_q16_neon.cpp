// Fast-mode INT4 (group 32) × int16 activations on arm64 NEON, in baseline ARMv8 instructions
// (no dot-product extension needed). The activations come in quantize_q16_scalar's layout: per
// group, slots 0-7 hold the low nibbles' elements of packed bytes 0-7, slots 8-15 their high
// nibbles', slots 16-31 the same for bytes 8-15 (q16_slot). So a group is four steps of
// "widen 8 nibbles to int16, multiply-accumulate with 8 int16 activations into int32"
// (vmlal_s16), exact like the scalar kernel. Nibbles stay unsigned (0..15); the +8 offset comes
// off through dsum8 (8·d·Σq), as on x86.
#if defined(__aarch64__)
#include <arm_neon.h>

#include "backend/cpu/cpu_kernels.h"

namespace k2 {
namespace {

// Σ nibble·q over one group of 32 (b: its 16 packed bytes, q: its 32 int16 slots).
inline int32x4_t group_dot(const uint8_t* b, const int16_t* q, int32x4_t acc) {
  const uint8x16_t v = vld1q_u8(b);
  const uint8x16_t lo = vandq_u8(v, vdupq_n_u8(0x0F)), hi = vshrq_n_u8(v, 4);
  const int16x8_t w0 = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(lo)));   // elements 0,2,..,14
  const int16x8_t w1 = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(hi)));   // elements 1,3,..,15
  const int16x8_t w2 = vreinterpretq_s16_u16(vmovl_u8(vget_high_u8(lo)));  // elements 16,18,..,30
  const int16x8_t w3 = vreinterpretq_s16_u16(vmovl_u8(vget_high_u8(hi)));  // elements 17,19,..,31
  const int16x8_t q0 = vld1q_s16(q), q1 = vld1q_s16(q + 8), q2 = vld1q_s16(q + 16), q3 = vld1q_s16(q + 24);
  acc = vmlal_s16(acc, vget_low_s16(w0), vget_low_s16(q0));
  acc = vmlal_high_s16(acc, w0, q0);
  acc = vmlal_s16(acc, vget_low_s16(w1), vget_low_s16(q1));
  acc = vmlal_high_s16(acc, w1, q1);
  acc = vmlal_s16(acc, vget_low_s16(w2), vget_low_s16(q2));
  acc = vmlal_high_s16(acc, w2, q2);
  acc = vmlal_s16(acc, vget_low_s16(w3), vget_low_s16(q3));
  return vmlal_high_s16(acc, w3, q3);
}

}  // namespace

void int4_q16_rows_neon(const Q16Rows& x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1) {
  const int K = w.cols, G = K / 32;
  for (int r = r0; r < r1; r++) {
    const uint8_t* pr = reinterpret_cast<const uint8_t*>(w.packed + static_cast<size_t>(r) * (K / 8));
    const uint16_t* sr = w.scales + static_cast<size_t>(r) * G;
    for (int t = 0; t < n; t++) {
      const int16_t* q = x.qs + static_cast<size_t>(t) * x.row_elems;
      const float* d = x.d + static_cast<size_t>(t) * x.row_groups;
      const float* ds = x.dsum8 + static_cast<size_t>(t) * x.row_groups;
      // Four groups at a time: their int32 sums go to the lanes of one vector, so the scales
      // and the offset correction are applied four groups per instruction.
      float32x4_t acc = vdupq_n_f32(0);
      int g = 0;
      for (; g + 4 <= G; g += 4) {
        int32x4_t s[4];
        for (int j = 0; j < 4; j++) s[j] = group_dot(pr + (g + j) * 16, q + (g + j) * 32, vdupq_n_s32(0));
        const int32x4_t dots = vpaddq_s32(vpaddq_s32(s[0], s[1]), vpaddq_s32(s[2], s[3]));  // lane j: group g + j
        const float32x4_t sw = vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(sr + g), 16));
        acc = vfmaq_f32(acc, vcvtq_f32_s32(dots), vmulq_f32(sw, vld1q_f32(d + g)));
        acc = vfmsq_f32(acc, sw, vld1q_f32(ds + g));
      }
      float tail = 0;
      for (; g < G; g++) {
        const float sw = bf16_to_f32(sr[g]);
        tail += sw * (d[g] * static_cast<float>(vaddvq_s32(group_dot(pr + g * 16, q + g * 32, vdupq_n_s32(0)))) - ds[g]);
      }
      y[static_cast<size_t>(t) * ldy + r] = vaddvq_f32(acc) + tail;
    }
  }
}

}  // namespace k2
#endif
