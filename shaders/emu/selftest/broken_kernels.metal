// Kernels with deliberate synchronisation bugs, compiled only into the harness, so the harness's
// own tests can show it catches them (test/metal/harness.test.ts). Never part of the metallib.
#include <metal_stdlib>
using namespace metal;

// out[0] = sum of x[0..63] with 64 threads. Correct: simd_sum per simdgroup, barrier, combine.
kernel void selftest_sum_with_barrier(device const float* x [[buffer(0)]],
                                      device float* out [[buffer(1)]],
                                      uint3 tgpig [[threadgroup_position_in_grid]],
                                      ushort tiitg [[thread_index_in_threadgroup]],
                                      ushort3 ntg [[threads_per_threadgroup]],
                                      ushort sgitg [[simdgroup_index_in_threadgroup]],
                                      ushort tiisg [[thread_index_in_simdgroup]]) {
  threadgroup float part[2];
  const float s = simd_sum(x[tiitg]);
  if (tiisg == 0) part[sgitg] = s;
  threadgroup_barrier(mem_flags::mem_threadgroup);
  if (tiitg == 0) out[0] = part[0] + part[1];
}

// The same without the barrier: thread 0 may read part[1] before simdgroup 1 wrote it.
kernel void selftest_sum_missing_barrier(device const float* x [[buffer(0)]],
                                         device float* out [[buffer(1)]],
                                         uint3 tgpig [[threadgroup_position_in_grid]],
                                         ushort tiitg [[thread_index_in_threadgroup]],
                                         ushort3 ntg [[threads_per_threadgroup]],
                                         ushort sgitg [[simdgroup_index_in_threadgroup]],
                                         ushort tiisg [[thread_index_in_simdgroup]]) {
  threadgroup float part[2];
  const float s = simd_sum(x[tiitg]);
  if (tiisg == 0) part[sgitg] = s;
  if (tiitg == 0) out[0] = part[0] + part[1];
}

// A barrier only half the threadgroup reaches (the other half returned): undefined on a GPU.
kernel void selftest_barrier_half(device const float* x [[buffer(0)]],
                                  device float* out [[buffer(1)]],
                                  uint3 tgpig [[threadgroup_position_in_grid]],
                                  ushort tiitg [[thread_index_in_threadgroup]],
                                  ushort3 ntg [[threads_per_threadgroup]],
                                  ushort sgitg [[simdgroup_index_in_threadgroup]],
                                  ushort tiisg [[thread_index_in_simdgroup]]) {
  if (tiitg >= 32) return;
  threadgroup_barrier(mem_flags::mem_threadgroup);
  out[tiitg] = x[tiitg];
}

// out[s] = sum of simdgroup s's 32 values by a shuffle-down tree. `first` is the first offset:
// 16 is right; 8 is the classic wrong reduction (lane 0 ends with only 16 of the 32 values).
inline float tree_sum(float v, ushort first) {
  for (ushort off = first; off > 0; off >>= 1) v += simd_shuffle_down(v, off);
  return v;
}

kernel void selftest_tree_sum_good(device const float* x [[buffer(0)]],
                                   device float* out [[buffer(1)]],
                                   uint3 tgpig [[threadgroup_position_in_grid]],
                                   ushort tiitg [[thread_index_in_threadgroup]],
                                   ushort3 ntg [[threads_per_threadgroup]],
                                   ushort sgitg [[simdgroup_index_in_threadgroup]],
                                   ushort tiisg [[thread_index_in_simdgroup]]) {
  const float s = tree_sum(x[tiitg], 16);
  if (tiisg == 0) out[sgitg] = s;
}

kernel void selftest_tree_sum_wrong(device const float* x [[buffer(0)]],
                                    device float* out [[buffer(1)]],
                                    uint3 tgpig [[threadgroup_position_in_grid]],
                                    ushort tiitg [[thread_index_in_threadgroup]],
                                    ushort3 ntg [[threads_per_threadgroup]],
                                    ushort sgitg [[simdgroup_index_in_threadgroup]],
                                    ushort tiisg [[thread_index_in_simdgroup]]) {
  const float s = tree_sum(x[tiitg], 8);
  if (tiisg == 0) out[sgitg] = s;
}

// Lanes of one simdgroup at two different simd_sum calls: a reduction split by a branch.
kernel void selftest_simd_divergent(device const float* x [[buffer(0)]],
                                    device float* out [[buffer(1)]],
                                    uint3 tgpig [[threadgroup_position_in_grid]],
                                    ushort tiitg [[thread_index_in_threadgroup]],
                                    ushort3 ntg [[threads_per_threadgroup]],
                                    ushort sgitg [[simdgroup_index_in_threadgroup]],
                                    ushort tiisg [[thread_index_in_simdgroup]]) {
  float s;
  if (tiisg < 16) s = simd_sum(x[tiitg]);
  else s = simd_sum(-x[tiitg]);
  if (tiisg == 0) out[sgitg] = s;
}
