// Greedy sampling on the device: index of the largest logit of each row (ties to the lower
// index, like the host sampler). One threadgroup of 256 threads per row.
#include <metal_stdlib>
using namespace metal;

#include "kargs.h"

inline bool argmax_better(float v1, int i1, float v2, int i2) {
  if (i1 < 0) return false;
  if (i2 < 0) return true;
  return v1 > v2 || (v1 == v2 && i1 < i2);
}

kernel void argmax_f32(constant K2ArgmaxArgs& args [[buffer(0)]],
                       device const float* logits [[buffer(1)]],
                       device int* out [[buffer(2)]],
                       uint3 tgpig [[threadgroup_position_in_grid]],
                       ushort tiitg [[thread_index_in_threadgroup]],
                       ushort3 ntg [[threads_per_threadgroup]],
                       ushort sgitg [[simdgroup_index_in_threadgroup]],
                       ushort tiisg [[thread_index_in_simdgroup]]) {
  threadgroup float best_v[32];
  threadgroup int best_i[32];
  device const float* row = logits + int(tgpig.x) * args.n;
  float bv = 0.0f;
  int bi = -1;
  for (int i = tiitg; i < args.n; i += ntg.x)
    if (argmax_better(row[i], i, bv, bi)) {
      bv = row[i];
      bi = i;
    }
  for (ushort off = 16; off > 0; off >>= 1) {
    const float ov = simd_shuffle_xor(bv, off);
    const int oi = simd_shuffle_xor(bi, off);
    if (argmax_better(ov, oi, bv, bi)) {
      bv = ov;
      bi = oi;
    }
  }
  if (tiisg == 0) {
    best_v[sgitg] = bv;
    best_i[sgitg] = bi;
  }
  threadgroup_barrier(mem_flags::mem_threadgroup);
  if (tiitg == 0) {
    for (int s = 1; s < (ntg.x + 31) / 32; s++)
      if (argmax_better(best_v[s], best_i[s], bv, bi)) {
        bv = best_v[s];
        bi = best_i[s];
      }
    out[int(tgpig.x)] = bi;
  }
}
