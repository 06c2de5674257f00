#include <cmath>
#include <cstring>

#include "backend/cpu/cpu_kernels.h"

namespace k2 {

void int4_rows_scalar(const float* x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1) {
  const int K = w.cols, G = K / 32;
  float deq[32];
  for (int r = r0; r < r1; r++) {
    const uint32_t* pr = w.packed + static_cast<size_t>(r) * (K / 8);
    const uint16_t* sr = w.scales + static_cast<size_t>(r) * G;
    for (int t = 0; t < n; t++) y[static_cast<size_t>(t) * ldy + r] = 0;
    for (int g = 0; g < G; g++) {
      const float s = bf16_to_f32(sr[g]);
      for (int i = 0; i < 32; i++) {
        uint32_t word;
        std::memcpy(&word, pr + g * 4 + i / 8, 4);
        deq[i] = (static_cast<int>((word >> (4 * (i % 8))) & 0xF) - 8) * s;
      }
      for (int t = 0; t < n; t++) {
        const float* xt = x + static_cast<size_t>(t) * K + g * 32;
        float acc = 0;
        for (int i = 0; i < 32; i++) acc += deq[i] * xt[i];
        y[static_cast<size_t>(t) * ldy + r] += acc;
      }
    }
  }
}

void quantize_q16_scalar(const float* x, int n, int cols, Q16Rows& out, int row0) {
  const int G = cols / 32;
  for (int t = 0; t < n; t++) {
    const float* xt = x + static_cast<size_t>(t) * cols;
    const size_t row = static_cast<size_t>(row0 + t);
    for (int g = 0; g < G; g++) {
      const float* xg = xt + g * 32;
      float amax = 0;
      for (int i = 0; i < 32; i++) amax = std::fmax(amax, std::fabs(xg[i]));
      const float d = amax / 32767.0f;
      const float id = d > 0 ? 1.0f / d : 0.0f;
      int16_t* q = out.qs + row * out.row_elems + g * 32;
      int sum = 0;
      for (int i = 0; i < 32; i++) {
        const int v = static_cast<int>(std::nearbyint(xg[i] * id));
        q[q16_slot(i)] = static_cast<int16_t>(v);
        sum += v;
      }
      out.d[row * out.row_groups + g] = d;
      out.dsum8[row * out.row_groups + g] = 8.0f * d * static_cast<float>(sum);
    }
  }
}

void int4_q16_rows_scalar(const Q16Rows& x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1) {
  const int K = w.cols, G = K / 32;
  for (int r = r0; r < r1; r++) {
    const uint8_t* pr = reinterpret_cast<const uint8_t*>(w.packed + static_cast<size_t>(r) * (K / 8));
    const uint16_t* sr = w.scales + static_cast<size_t>(r) * G;
    for (int t = 0; t < n; t++) {
      const int16_t* q = x.qs + static_cast<size_t>(t) * x.row_elems;
      const float* d = x.d + static_cast<size_t>(t) * x.row_groups;
      float acc = 0;
      for (int g = 0; g < G; g++) {
        const uint8_t* b = pr + g * 16;
        const int16_t* qg = q + g * 32;
        int32_t dot = 0;
        for (int m = 0; m < 16; m++) dot += ((b[m] & 0xF) - 8) * qg[q16_slot(2 * m)] + ((b[m] >> 4) - 8) * qg[q16_slot(2 * m + 1)];
        acc += bf16_to_f32(sr[g]) * d[g] * static_cast<float>(dot);
      }
      y[static_cast<size_t>(t) * ldy + r] = acc;
    }
  }
}

}  // namespace k2
