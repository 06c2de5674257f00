// MoE router (DeepSeek-V3 noaux_tc): sigmoid scores, + correction bias for selection only,
// optional group limit (keep the topk_group groups whose best two selection scores sum highest),
// top-k (ties to the lower expert id), weights = chosen sigmoid scores, normalised and scaled.
// One simdgroup per token; grid (n_tokens), 32 threads.
#include <metal_stdlib>
using namespace metal;

#include "kargs.h"

// (v1, i1) ranks before (v2, i2): higher value, then lower index; i < 0 means "nothing yet".
inline bool router_better(float v1, int i1, float v2, int i2) {
  if (i1 < 0) return false;
  if (i2 < 0) return true;
  return v1 > v2 || (v1 == v2 && i1 < i2);
}

inline float router_sigmoid(float x) { return 1.0f / (1.0f + exp(-x)); }

kernel void router_topk_f32(constant K2RouterArgs& args [[buffer(0)]],
                            device const float* logits [[buffer(1)]],
                            device const float* bias [[buffer(2)]],
                            device int* expert_ids [[buffer(3)]],
                            device float* weights [[buffer(4)]],
                            uint3 tgpig [[threadgroup_position_in_grid]],
                            ushort tiitg [[thread_index_in_threadgroup]],
                            ushort3 ntg [[threads_per_threadgroup]],
                            ushort sgitg [[simdgroup_index_in_threadgroup]],
                            ushort tiisg [[thread_index_in_simdgroup]]) {
  threadgroup float sel[K2_ROUTER_MAX_EXPERTS];
  threadgroup float gscore[K2_ROUTER_MAX_GROUPS];
  const int t = int(tgpig.x), E = args.n_experts, K = args.top_k;
  device const float* lg = logits + t * E;
  for (int e = tiisg; e < E; e += 32) sel[e] = router_sigmoid(lg[e]) + (args.has_bias != 0 ? bias[e] : 0.0f);
  threadgroup_barrier(mem_flags::mem_threadgroup);

  if (args.n_group > 1) {
    const int per = E / args.n_group;
    if (tiisg < args.n_group) {
      float b1 = -INFINITY, b2 = -INFINITY;
      for (int e = tiisg * per; e < (tiisg + 1) * per; e++) {
        const float v = sel[e];
        if (v > b1) {
          b2 = b1;
          b1 = v;
        } else if (v > b2) {
          b2 = v;
        }
      }
      gscore[tiisg] = per >= 2 ? b1 + b2 : b1;
    }
    threadgroup_barrier(mem_flags::mem_threadgroup);
    for (int e = tiisg; e < E; e += 32) {
      const int g = e / per;
      int rank = 0;
      for (int o = 0; o < args.n_group; o++) rank += (gscore[o] > gscore[g] || (gscore[o] == gscore[g] && o < g)) ? 1 : 0;
      if (rank >= args.topk_group) sel[e] = -INFINITY;
    }
    threadgroup_barrier(mem_flags::mem_threadgroup);
  }

  // Each lane owns experts lane, lane + 32, ...; a butterfly of shuffles finds the best untaken.
  bool taken[K2_ROUTER_MAX_EXPERTS / 32];
  for (int k = 0; k < K2_ROUTER_MAX_EXPERTS / 32; k++) taken[k] = false;
  float wsum = 0.0f;
  for (int j = 0; j < K; j++) {
    float best = 0.0f;
    int bi = -1;
    for (int k = 0; k * 32 + tiisg < E; k++) {
      const int e = k * 32 + tiisg;
      if (!taken[k] && router_better(sel[e], e, best, bi)) {
        best = sel[e];
        bi = e;
      }
    }
    for (ushort off = 16; off > 0; off >>= 1) {
      const float ov = simd_shuffle_xor(best, off);
      const int oi = simd_shuffle_xor(bi, off);
      if (router_better(ov, oi, best, bi)) {
        best = ov;
        bi = oi;
      }
    }
    if (bi % 32 == tiisg) taken[bi / 32] = true;
    const float sc = router_sigmoid(lg[bi]);
    wsum += sc;
    if (tiisg == 0) {
      expert_ids[t * K + j] = bi;
      weights[t * K + j] = sc;
    }
  }
  if (tiisg == 0) {
    const float norm = (args.norm_topk_prob != 0 && wsum > 0.0f) ? 1.0f / wsum : 1.0f;
    for (int j = 0; j < K; j++) weights[t * K + j] = weights[t * K + j] * norm * args.routed_scaling_factor;
  }
}
