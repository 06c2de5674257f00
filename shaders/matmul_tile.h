// The shared part of the tiled matmuls (bf16_matmul_f32, int4_matmul_f32): one threadgroup of
// four simdgroups computes a 32x32 tile of y (32 tokens x 32 output rows), stepping through the
// inputs 32 at a time. Each simdgroup owns a 16x16 quarter as 2x2 simdgroup_float8x8
// accumulators. Tiles live in threadgroup memory, zero-padded at ragged edges, so the
// simdgroup_matrix loads never read outside the tensors. The weight tile loader is the kernel's own.
#ifndef K2_SHADERS_MATMUL_TILE_H
#define K2_SHADERS_MATMUL_TILE_H

#include "kargs.h"

#define K2_T K2_MATMUL_TILE

// xs[t][k] = x[t0 + t, k0 + k] (zero outside), 128 threads.
template <typename TGPtr>
inline void tile_load_x(TGPtr xs, device const float* x, int n, int cols, int t0, int k0, ushort tiitg) {
  for (int i = tiitg; i < K2_T * K2_T; i += 128) {
    const int t = i / K2_T, k = i % K2_T;
    const bool in = t0 + t < n && k0 + k < cols;
    xs[i] = in ? x[(t0 + t) * cols + k0 + k] : 0.0f;
  }
}

// acc[2*i + j] += xs[16*(sg/2) + 8i .., :] . ws[16*(sg%2) + 8j .., :]^T
template <typename TGPtr>
inline void tile_mma(TGPtr xs, TGPtr ws, thread simdgroup_float8x8* acc, ushort sgitg) {
  const int tr = 16 * (sgitg / 2), wr = 16 * (sgitg % 2);
  for (int kk = 0; kk < K2_T; kk += 8) {
    simdgroup_float8x8 a[2], b[2];
    for (int i = 0; i < 2; i++) simdgroup_load(a[i], xs + (tr + 8 * i) * K2_T + kk, K2_T);
    // b = ws rows as columns: the transposed load of an 8x8 block of ws.
    for (int j = 0; j < 2; j++) simdgroup_load(b[j], ws + (wr + 8 * j) * K2_T + kk, K2_T, ulong2(0, 0), true);
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 2; j++) simdgroup_multiply_accumulate(acc[2 * i + j], a[i], b[j], acc[2 * i + j]);
  }
}

// Writes the accumulators through cs (32x32) to y, keeping only rows/cols inside [n, rows].
template <typename TGPtr>
inline void tile_store(TGPtr cs, thread simdgroup_float8x8* acc, device float* y, int n, int rows, int t0, int r0, ushort tiitg,
                       ushort sgitg) {
  const int tr = 16 * (sgitg / 2), wr = 16 * (sgitg % 2);
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++) simdgroup_store(acc[2 * i + j], cs + (tr + 8 * i) * K2_T + wr + 8 * j, K2_T);
  threadgroup_barrier(mem_flags::mem_threadgroup);
  for (int i = tiitg; i < K2_T * K2_T; i += 128) {
    const int t = i / K2_T, r = i % K2_T;
    if (t0 + t < n && r0 + r < rows) y[(t0 + t) * rows + r0 + r] = cs[i];
  }
}

#endif
