#include "backend/cpu/bf16_rows8.h"

#include <cstring>

namespace k2 {

void pack_rows8(const uint16_t* src, int rows, int cols, uint16_t* dst, int block0, int block1) {
  const int full = rows / kRows8;
  for (int b = block0; b < block1; b++) {
    const size_t base = static_cast<size_t>(b) * kRows8 * cols;
    if (b >= full) {
      std::memcpy(dst + base, src + base, sizeof(uint16_t) * static_cast<size_t>(rows - b * kRows8) * cols);
      continue;
    }
    for (int k = 0; k < cols; k += kRows8)
      for (int i = 0; i < kRows8; i++)
        std::memcpy(dst + base + static_cast<size_t>(k) * kRows8 + i * kRows8, src + base + static_cast<size_t>(i) * cols + k,
                    sizeof(uint16_t) * kRows8);
  }
}

}  // namespace k2
