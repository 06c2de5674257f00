// INT4 (compressed-tensors pack-quantized, symmetric, group 32) weights times f32 activations:
// y[n, rows] = x[n, cols] . w^T; cols is a multiple of 32.
//   int4_matvec_f32: decode. One simdgroup per output row and token; each lane takes whole
//                    32-element groups (16 bytes of nibbles + one bf16 scale). Grid (ceil(rows / 4), n).
//   int4_matmul_f32: prefill. Weight tiles are dequantized into threadgroup memory, one group per
//                    32-wide step, then multiplied with simdgroup_matrix (matmul_tile.h).
#include <metal_stdlib>
using namespace metal;

#include "kargs.h"
#include "matmul_tile.h"
#include "quant.h"

kernel void int4_matvec_f32(constant K2MatmulArgs& args [[buffer(0)]],
                            device const float* x [[buffer(1)]],
                            device const uint* packed [[buffer(2)]],
                            device const ushort* scales [[buffer(3)]],
                            device float* y [[buffer(4)]],
                            uint3 tgpig [[threadgroup_position_in_grid]],
                            ushort tiitg [[thread_index_in_threadgroup]],
                            ushort3 ntg [[threads_per_threadgroup]],
                            ushort sgitg [[simdgroup_index_in_threadgroup]],
                            ushort tiisg [[thread_index_in_simdgroup]]) {
  const int row = int(tgpig.x) * K2_MATVEC_ROWS_PER_TG + sgitg;
  const int t = int(tgpig.y);
  if (row >= args.rows) return;
  const int groups = args.cols / 32;
  float s = int4_row_dot_lane(packed + row * (args.cols / 8), scales + row * groups, x + t * args.cols, groups, tiisg);
  s = simd_sum(s);
  if (tiisg == 0) y[t * args.rows + row] = s;
}

kernel void int4_matmul_f32(constant K2MatmulArgs& args [[buffer(0)]],
                            device const float* x [[buffer(1)]],
                            device const uint* packed [[buffer(2)]],
                            device const ushort* scales [[buffer(3)]],
                            device float* y [[buffer(4)]],
                            uint3 tgpig [[threadgroup_position_in_grid]],
                            ushort tiitg [[thread_index_in_threadgroup]],
                            ushort3 ntg [[threads_per_threadgroup]],
                            ushort sgitg [[simdgroup_index_in_threadgroup]],
                            ushort tiisg [[thread_index_in_simdgroup]]) {
  threadgroup float xs[K2_T * K2_T];
  threadgroup float ws[K2_T * K2_T];
  const int r0 = int(tgpig.x) * K2_T, t0 = int(tgpig.y) * K2_T;
  const int words = args.cols / 8, groups = args.cols / 32;
  simdgroup_float8x8 acc[4];
  for (int i = 0; i < 4; i++) acc[i] = make_filled_simdgroup_matrix<float, 8, 8>(0.0f);
  for (int k0 = 0; k0 < args.cols; k0 += K2_T) {
    tile_load_x(xs, x, args.n, args.cols, t0, k0, tiitg);
    // 32 rows x 4 words: each of the 128 threads unpacks one word (8 weights) of the group.
    {
      const int r = tiitg / 4, wd = tiitg % 4;
      if (r0 + r < args.rows) {
        const uint word = packed[(r0 + r) * words + k0 / 8 + wd];
        const float sc = bf16_to_f32(scales[(r0 + r) * groups + k0 / 32]);
        for (int k = 0; k < 8; k++) ws[r * K2_T + wd * 8 + k] = int4_at(word, k) * sc;
      } else {
        for (int k = 0; k < 8; k++) ws[r * K2_T + wd * 8 + k] = 0.0f;
      }
    }
    threadgroup_barrier(mem_flags::mem_threadgroup);
    tile_mma(xs, ws, acc, sgitg);
    threadgroup_barrier(mem_flags::mem_threadgroup);
  }
  tile_store(xs, acc, y, args.n, args.rows, t0, r0, tiitg, sgitg);
}
