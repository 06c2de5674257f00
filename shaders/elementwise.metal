// Element-wise kernels: SwiGLU, residual add, bf16 embedding lookup. 256 threads per threadgroup.
#include <metal_stdlib>
using namespace metal;

#include "kargs.h"
#include "quant.h"

// out = silu(gate) * up; grid ceil(n / 256)
kernel void swiglu_f32(constant K2ElementwiseArgs& args [[buffer(0)]],
                       device const float* gate [[buffer(1)]],
                       device const float* up [[buffer(2)]],
                       device float* out [[buffer(3)]],
                       uint3 tgpig [[threadgroup_position_in_grid]],
                       ushort tiitg [[thread_index_in_threadgroup]],
                       ushort3 ntg [[threads_per_threadgroup]],
                       ushort sgitg [[simdgroup_index_in_threadgroup]],
                       ushort tiisg [[thread_index_in_simdgroup]]) {
  const int i = int(tgpig.x) * ntg.x + tiitg;
  if (i >= args.n) return;
  const float g = gate[i];
  out[i] = g / (1.0f + exp(-g)) * up[i];
}

// y += x; grid ceil(n / 256)
kernel void add_f32(constant K2ElementwiseArgs& args [[buffer(0)]],
                    device float* y [[buffer(1)]],
                    device const float* x [[buffer(2)]],
                    uint3 tgpig [[threadgroup_position_in_grid]],
                    ushort tiitg [[thread_index_in_threadgroup]],
                    ushort3 ntg [[threads_per_threadgroup]],
                    ushort sgitg [[simdgroup_index_in_threadgroup]],
                    ushort tiisg [[thread_index_in_simdgroup]]) {
  const int i = int(tgpig.x) * ntg.x + tiitg;
  if (i >= args.n) return;
  y[i] += x[i];
}

// out[t, :] = table[ids[t], :]; grid (ceil(cols / 256), n). ids are validated on the host.
kernel void embed_bf16_f32(constant K2EmbedArgs& args [[buffer(0)]],
                           device const ushort* table [[buffer(1)]],
                           device const int* ids [[buffer(2)]],
                           device float* out [[buffer(3)]],
                           uint3 tgpig [[threadgroup_position_in_grid]],
                           ushort tiitg [[thread_index_in_threadgroup]],
                           ushort3 ntg [[threads_per_threadgroup]],
                           ushort sgitg [[simdgroup_index_in_threadgroup]],
                           ushort tiisg [[thread_index_in_simdgroup]]) {
  const int k = int(tgpig.x) * ntg.x + tiitg, t = int(tgpig.y);
  if (k >= args.cols) return;
  out[t * args.cols + k] = bf16_to_f32(table[ids[t] * args.cols + k]);
}
