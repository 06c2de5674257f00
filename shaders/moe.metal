// Routed experts (INT4 SwiGLU FFNs) for the tokens routed to one expert: rows[j] are token rows.
//   moe_gate_up_int4_f32: h[j, r] = silu(gate_r . x[rows[j]]) * (up_r . x[rows[j]])
//                         one simdgroup per intermediate row r; grid (ceil(inter / 4), n_rows)
//   moe_down_int4_f32:    out[rows[j], d] += weight[j] * (down_d . h[j])
//                         one simdgroup per output dim d; grid (ceil(dim / 4), n_rows).
// Experts chosen by many tokens of a prefill chunk take the tiled INT4 matmul instead (weights
// read once per 32 tokens, not once per token), between these two:
//   moe_gather_rows_f32:  xg[j, :] = x[rows[j], :]                    grid (ceil(dim / 256), n_rows)
//   moe_scatter_add_f32:  out[rows[j], :] += weight[j] * y[j, :]       grid (ceil(dim / 256), n_rows)
// A token picks an expert at most once, so within one dispatch no two threads add to the same
// element; dispatches of different experts are ordered by the encoder.
#include <metal_stdlib>
using namespace metal;

#include "kargs.h"
#include "quant.h"

kernel void moe_gate_up_int4_f32(constant K2MoeArgs& args [[buffer(0)]],
                                 device const float* x [[buffer(1)]],
                                 device const int* rows [[buffer(2)]],
                                 device const uint* gate_q [[buffer(3)]],
                                 device const ushort* gate_s [[buffer(4)]],
                                 device const uint* up_q [[buffer(5)]],
                                 device const ushort* up_s [[buffer(6)]],
                                 device float* h [[buffer(7)]],
                                 uint3 tgpig [[threadgroup_position_in_grid]],
                                 ushort tiitg [[thread_index_in_threadgroup]],
                                 ushort3 ntg [[threads_per_threadgroup]],
                                 ushort sgitg [[simdgroup_index_in_threadgroup]],
                                 ushort tiisg [[thread_index_in_simdgroup]]) {
  const int r = int(tgpig.x) * K2_MATVEC_ROWS_PER_TG + sgitg, j = int(tgpig.y);
  if (r >= args.inter) return;
  const int groups = args.dim / 32;
  device const float* xr = x + rows[j] * args.dim;
  const float g = simd_sum(int4_row_dot_lane(gate_q + r * (args.dim / 8), gate_s + r * groups, xr, groups, tiisg));
  const float u = simd_sum(int4_row_dot_lane(up_q + r * (args.dim / 8), up_s + r * groups, xr, groups, tiisg));
  if (tiisg == 0) h[j * args.inter + r] = g / (1.0f + exp(-g)) * u;
}

kernel void moe_down_int4_f32(constant K2MoeArgs& args [[buffer(0)]],
                              device const float* h [[buffer(1)]],
                              device const int* rows [[buffer(2)]],
                              device const float* weight [[buffer(3)]],
                              device const uint* down_q [[buffer(4)]],
                              device const ushort* down_s [[buffer(5)]],
                              device float* out [[buffer(6)]],
                              uint3 tgpig [[threadgroup_position_in_grid]],
                              ushort tiitg [[thread_index_in_threadgroup]],
                              ushort3 ntg [[threads_per_threadgroup]],
                              ushort sgitg [[simdgroup_index_in_threadgroup]],
                              ushort tiisg [[thread_index_in_simdgroup]]) {
  const int d = int(tgpig.x) * K2_MATVEC_ROWS_PER_TG + sgitg, j = int(tgpig.y);
  if (d >= args.dim) return;
  const int groups = args.inter / 32;
  const float s = simd_sum(int4_row_dot_lane(down_q + d * (args.inter / 8), down_s + d * groups, h + j * args.inter, groups, tiisg));
  if (tiisg == 0) out[rows[j] * args.dim + d] += weight[j] * s;
}

kernel void moe_gather_rows_f32(constant K2MoeArgs& args [[buffer(0)]],
                                device const float* x [[buffer(1)]],
                                device const int* rows [[buffer(2)]],
                                device float* xg [[buffer(3)]],
                                uint3 tgpig [[threadgroup_position_in_grid]],
                                ushort tiitg [[thread_index_in_threadgroup]],
                                ushort3 ntg [[threads_per_threadgroup]],
                                ushort sgitg [[simdgroup_index_in_threadgroup]],
                                ushort tiisg [[thread_index_in_simdgroup]]) {
  const int k = int(tgpig.x) * ntg.x + tiitg, j = int(tgpig.y);
  if (k >= args.dim) return;
  xg[j * args.dim + k] = x[rows[j] * args.dim + k];
}

kernel void moe_scatter_add_f32(constant K2MoeArgs& args [[buffer(0)]],
                                device const float* y [[buffer(1)]],
                                device const int* rows [[buffer(2)]],
                                device const float* weight [[buffer(3)]],
                                device float* out [[buffer(4)]],
                                uint3 tgpig [[threadgroup_position_in_grid]],
                                ushort tiitg [[thread_index_in_threadgroup]],
                                ushort3 ntg [[threads_per_threadgroup]],
                                ushort sgitg [[simdgroup_index_in_threadgroup]],
                                ushort tiisg [[thread_index_in_simdgroup]]) {
  const int k = int(tgpig.x) * ntg.x + tiitg, j = int(tgpig.y);
  if (k >= args.dim) return;
  out[rows[j] * args.dim + k] += weight[j] * y[j * args.dim + k];
}
