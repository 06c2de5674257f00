// BF16 weights times f32 activations: y[n, rows] = x[n, cols] . w^T, w stored [rows, cols].
//   bf16_matvec_f32: decode (few tokens). One simdgroup per output row and token; lanes stride
//                    the inputs, simd_sum reduces. Grid (ceil(rows / 4), n).
//   bf16_matmul_f32: prefill. 32x32 tiles through simdgroup_matrix (matmul_tile.h).
//                    Grid (ceil(rows / 32), ceil(n / 32)), 128 threads.
#include <metal_stdlib>
using namespace metal;

#include "kargs.h"
#include "matmul_tile.h"
#include "quant.h"

kernel void bf16_matvec_f32(constant K2MatmulArgs& args [[buffer(0)]],
                            device const float* x [[buffer(1)]],
                            device const ushort* w [[buffer(2)]],
                            device float* y [[buffer(3)]],
                            uint3 tgpig [[threadgroup_position_in_grid]],
                            ushort tiitg [[thread_index_in_threadgroup]],
                            ushort3 ntg [[threads_per_threadgroup]],
                            ushort sgitg [[simdgroup_index_in_threadgroup]],
                            ushort tiisg [[thread_index_in_simdgroup]]) {
  const int row = int(tgpig.x) * K2_MATVEC_ROWS_PER_TG + sgitg;
  const int t = int(tgpig.y);
  if (row >= args.rows) return;
  device const ushort* wr = w + row * args.cols;
  device const float* xt = x + t * args.cols;
  float s = 0.0f;
  for (int k = tiisg; k < args.cols; k += 32) s = fma(bf16_to_f32(wr[k]), xt[k], s);
  s = simd_sum(s);
  if (tiisg == 0) y[t * args.rows + row] = s;
}

kernel void bf16_matmul_f32(constant K2MatmulArgs& args [[buffer(0)]],
                            device const float* x [[buffer(1)]],
                            device const ushort* w [[buffer(2)]],
                            device float* y [[buffer(3)]],
                            uint3 tgpig [[threadgroup_position_in_grid]],
                            ushort tiitg [[thread_index_in_threadgroup]],
                            ushort3 ntg [[threads_per_threadgroup]],
                            ushort sgitg [[simdgroup_index_in_threadgroup]],
                            ushort tiisg [[thread_index_in_simdgroup]]) {
  threadgroup float xs[K2_T * K2_T];
  threadgroup float ws[K2_T * K2_T];
  const int r0 = int(tgpig.x) * K2_T, t0 = int(tgpig.y) * K2_T;
  simdgroup_float8x8 acc[4];
  for (int i = 0; i < 4; i++) acc[i] = make_filled_simdgroup_matrix<float, 8, 8>(0.0f);
  for (int k0 = 0; k0 < args.cols; k0 += K2_T) {
    tile_load_x(xs, x, args.n, args.cols, t0, k0, tiitg);
    for (int i = tiitg; i < K2_T * K2_T; i += 128) {
      const int r = i / K2_T, k = i % K2_T;
      const bool in = r0 + r < args.rows && k0 + k < args.cols;
      ws[i] = in ? bf16_to_f32(w[(r0 + r) * args.cols + k0 + k]) : 0.0f;
    }
    threadgroup_barrier(mem_flags::mem_threadgroup);
    tile_mma(xs, ws, acc, sgitg);
    threadgroup_barrier(mem_flags::mem_threadgroup);
  }
  tile_store(xs, acc, y, args.n, args.rows, t0, r0, tiitg, sgitg);
}
