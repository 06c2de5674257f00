// Bf16Layout::rows8 (backend.h), the CPU backend's resident layout for dense BF16 weights: where a
// row's values lie, and the repack from the checkpoint's row-major order.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backend/backend.h"

namespace k2 {

constexpr int kRows8 = 8;

// Rows held in whole 8-row blocks; the rows after them are row-major.
inline int rows8_blocked_rows(const Bf16Matrix& w) {
  return w.layout == Bf16Layout::rows8 ? w.rows / kRows8 * kRows8 : 0;
}

// The 8 values (r, k .. k+7) of a row inside the blocks (r < rows8_blocked_rows, k % 8 == 0).
inline const uint16_t* rows8_piece(const Bf16Matrix& w, int r, int k) {
  return w.data + static_cast<size_t>(r / kRows8) * kRows8 * w.cols + static_cast<size_t>(k) * kRows8 + (r % kRows8) * kRows8;
}

// Element (r, c) in either layout.
inline uint16_t bf16_at(const Bf16Matrix& w, int r, int c) {
  if (r < rows8_blocked_rows(w)) return rows8_piece(w, r, c / kRows8 * kRows8)[c % kRows8];
  return w.data[static_cast<size_t>(r) * w.cols + c];
}

// Whether resident_bf16 can re-lay this row-major matrix.
inline bool rows8_fits(const Bf16Matrix& w) { return w.layout == Bf16Layout::row_major && w.cols % kRows8 == 0 && w.cols > 0; }

// Writes blocks [block0, block1) of row-major src ([rows, cols]) into dst in rows8 order; the block
// index rows / 8 is the row-major tail (rows % 8 rows), copied as it is.
void pack_rows8(const uint16_t* src, int rows, int cols, uint16_t* dst, int block0, int block1);

}  // namespace k2
