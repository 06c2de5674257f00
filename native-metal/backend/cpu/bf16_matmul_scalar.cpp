#include "backend/cpu/cpu_kernels.h"

namespace k2 {

void bf16_rows_scalar(const float* x, int n, const Bf16Matrix& w, float* y, int ldy, int r0, int r1) {
  const int K = w.cols;
  for (int r = r0; r < r1; r++) {
    const uint16_t* wr = w.data + static_cast<size_t>(r) * K;
    for (int t = 0; t < n; t++) {
      const float* xt = x + static_cast<size_t>(t) * K;
      float acc = 0;
      for (int k = 0; k < K; k++) acc += bf16_to_f32(wr[k]) * xt[k];
      y[static_cast<size_t>(t) * ldy + r] = acc;
    }
  }
}

float dot_bf16_scalar(const uint16_t* w, const float* x, int n) {
  float acc = 0;
  for (int k = 0; k < n; k++) acc += bf16_to_f32(w[k]) * x[k];
  return acc;
}

void axpy_bf16_scalar(float a, const uint16_t* w, float* y, int n) {
  for (int k = 0; k < n; k++) y[k] += a * bf16_to_f32(w[k]);
}

float dot_scalar(const float* a, const float* b, int n) {
  float acc = 0;
  for (int k = 0; k < n; k++) acc += a[k] * b[k];
  return acc;
}

void axpy_scalar(float a, const float* x, float* y, int n) {
  for (int k = 0; k < n; k++) y[k] += a * x[k];
}

}  // namespace k2
