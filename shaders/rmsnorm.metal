// RMSNorm: y = x * rsqrt(mean(x^2) + eps) * w (bf16 w), one threadgroup of 256 threads per row.
// Rows are `stride` floats apart so the latent part of kv_a's output is normalised in place.
#include <metal_stdlib>
using namespace metal;

#include "kargs.h"
#include "quant.h"

kernel void rmsnorm_f32(constant K2RmsNormArgs& args [[buffer(0)]],
                        device const float* x [[buffer(1)]],
                        device const ushort* w [[buffer(2)]],
                        device float* y [[buffer(3)]],
                        uint3 tgpig [[threadgroup_position_in_grid]],
                        ushort tiitg [[thread_index_in_threadgroup]],
                        ushort3 ntg [[threads_per_threadgroup]],
                        ushort sgitg [[simdgroup_index_in_threadgroup]],
                        ushort tiisg [[thread_index_in_simdgroup]]) {
  threadgroup float partial[32];
  device const float* xr = x + int(tgpig.x) * args.stride;
  device float* yr = y + int(tgpig.x) * args.stride;
  float ss = 0.0f;
  for (int k = tiitg; k < args.dim; k += ntg.x) ss = fma(xr[k], xr[k], ss);
  ss = simd_sum(ss);
  if (tiisg == 0) partial[sgitg] = ss;
  threadgroup_barrier(mem_flags::mem_threadgroup);
  float total = 0.0f;
  for (int s = 0; s < (ntg.x + 31) / 32; s++) total += partial[s];
  const float inv = rsqrt(total / float(args.dim) + args.eps);
  // x and y may alias: every thread reads its own elements before writing them.
  for (int k = tiitg; k < args.dim; k += ntg.x) yr[k] = xr[k] * inv * bf16_to_f32(w[k]);
}
