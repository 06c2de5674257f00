#include "backend/cpu/cpu_kernels.h"

namespace k2 {

void dot_rows_scalar(const float* q, const float* rows, int n_rows, int len, float* out) {
  for (int r = 0; r < n_rows; r++) out[r] = dot_scalar(q, rows + static_cast<size_t>(r) * len, len);
}

void axpy_rows_scalar(const float* coef, const float* rows, int n_rows, int len, float* y) {
  for (int r = 0; r < n_rows; r++) axpy_scalar(coef[r], rows + static_cast<size_t>(r) * len, y, len);
}

}  // namespace k2
