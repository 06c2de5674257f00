// arm64 NEON kernels for the exact mode (f32 accumulation). CI (x86-64) cannot run them;
// `npm run check:arm64` cross-builds them and runs the golden check and the backend-op tests
// against the same float64 references under qemu-user.
#if defined(__aarch64__)
#include <arm_neon.h>

#include <vector>

#include "backend/cpu/cpu_kernels.h"

namespace k2 {
namespace {

inline float32x4_t load_bf16x4(const uint16_t* p) {
  return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16));
}

}  // namespace

float dot_neon(const float* a, const float* b, int n) {
  float32x4_t acc0 = vdupq_n_f32(0), acc1 = vdupq_n_f32(0);
  int k = 0;
  for (; k + 8 <= n; k += 8) {
    acc0 = vfmaq_f32(acc0, vld1q_f32(a + k), vld1q_f32(b + k));
    acc1 = vfmaq_f32(acc1, vld1q_f32(a + k + 4), vld1q_f32(b + k + 4));
  }
  float s = vaddvq_f32(vaddq_f32(acc0, acc1));
  for (; k < n; k++) s += a[k] * b[k];
  return s;
}

void axpy_neon(float a, const float* x, float* y, int n) {
  int k = 0;
  for (; k + 4 <= n; k += 4) vst1q_f32(y + k, vfmaq_n_f32(vld1q_f32(y + k), vld1q_f32(x + k), a));
  for (; k < n; k++) y[k] += a * x[k];
}

void dot_rows_neon(const float* q, const float* rows, int n_rows, int len, float* out) {
  for (int r = 0; r < n_rows; r++) out[r] = dot_neon(q, rows + static_cast<size_t>(r) * len, len);
}

void axpy_rows_neon(const float* coef, const float* rows, int n_rows, int len, float* y) {
  for (int r = 0; r < n_rows; r++) axpy_neon(coef[r], rows + static_cast<size_t>(r) * len, y, len);
}

float dot_bf16_neon(const uint16_t* w, const float* x, int n) {
  float32x4_t acc0 = vdupq_n_f32(0), acc1 = vdupq_n_f32(0);
  int k = 0;
  for (; k + 8 <= n; k += 8) {
    acc0 = vfmaq_f32(acc0, load_bf16x4(w + k), vld1q_f32(x + k));
    acc1 = vfmaq_f32(acc1, load_bf16x4(w + k + 4), vld1q_f32(x + k + 4));
  }
  float s = vaddvq_f32(vaddq_f32(acc0, acc1));
  for (; k < n; k++) s += bf16_to_f32(w[k]) * x[k];
  return s;
}

void axpy_bf16_neon(float a, const uint16_t* w, float* y, int n) {
  int k = 0;
  for (; k + 4 <= n; k += 4) vst1q_f32(y + k, vfmaq_n_f32(vld1q_f32(y + k), load_bf16x4(w + k), a));
  for (; k < n; k++) y[k] += a * bf16_to_f32(w[k]);
}

void bf16_rows_neon(const float* x, int n, const Bf16Matrix& w, float* y, int ldy, int r0, int r1) {
  const int K = w.cols;
  for (int r = r0; r < r1; r++) {
    const uint16_t* wr = w.data + static_cast<size_t>(r) * K;
    for (int t = 0; t < n; t++) y[static_cast<size_t>(t) * ldy + r] = dot_bf16_neon(wr, x + static_cast<size_t>(t) * K, K);
  }
}

void int4_rows_neon(const float* x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1) {
  const int K = w.cols, G = K / 32;
  thread_local std::vector<float> buf;
  if (buf.size() < static_cast<size_t>(K)) buf.resize(K);
  float* wrow = buf.data();
  for (int r = r0; r < r1; r++) {
    const uint8_t* pr = reinterpret_cast<const uint8_t*>(w.packed + static_cast<size_t>(r) * (K / 8));
    const uint16_t* sr = w.scales + static_cast<size_t>(r) * G;
    for (int g = 0; g < G; g++) {
      const float s = bf16_to_f32(sr[g]);
      const uint8x16_t b = vld1q_u8(pr + g * 16);
      const int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(b, vdupq_n_u8(0xF))), vdupq_n_s8(8));
      const int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(b, 4)), vdupq_n_s8(8));
      const int8x16x2_t z = vzipq_s8(lo, hi);  // elements 0..15, 16..31
      for (int half = 0; half < 2; half++) {
        const int16x8_t w16a = vmovl_s8(vget_low_s8(z.val[half]));
        const int16x8_t w16b = vmovl_s8(vget_high_s8(z.val[half]));
        float* o = wrow + g * 32 + half * 16;
        vst1q_f32(o + 0, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(w16a))), s));
        vst1q_f32(o + 4, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(w16a))), s));
        vst1q_f32(o + 8, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(w16b))), s));
        vst1q_f32(o + 12, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(w16b))), s));
      }
    }
    for (int t = 0; t < n; t++) y[static_cast<size_t>(t) * ldy + r] = dot_neon(wrow, x + static_cast<size_t>(t) * K, K);
  }
}

}  // namespace k2
#endif
