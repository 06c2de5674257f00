// Absorbed MLA attention (DeepSeek-V3 / K2) over the latent cache.
// mla_attention_f32 (decode): one threadgroup of 128 threads (4 simdgroups) per (head, query
// token); grid (n_heads, n_tokens). Query t attends to positions
// 0..pos[t], so the same kernel serves decode (one query) and causal prefill (many).
//   1. absorb W_uk into the query: q_lat = q_nope . W_uk            (threads over the latent dim)
//   2. scores against the cache, s_c = (q_lat . c_c + q_pe . pe_c) * scale; each simdgroup walks
//      its own positions with an online softmax and keeps its share of sum_c p_c * c_c in registers
//   3. merge the four simdgroups' (max, sum, accumulator) in threadgroup memory
//   4. out = W_uv . o_lat / sum                                      (one simdgroup per output row)
#include <metal_stdlib>
using namespace metal;

#include "kargs.h"
#include "quant.h"

kernel void mla_attention_f32(constant K2MlaArgs& args [[buffer(0)]],
                              device const float* q_all [[buffer(1)]],
                              device const ushort* kv_b [[buffer(2)]],
                              device const float* cache_c [[buffer(3)]],
                              device const float* cache_pe [[buffer(4)]],
                              device const int* pos [[buffer(5)]],
                              device float* out [[buffer(6)]],
                              uint3 tgpig [[threadgroup_position_in_grid]],
                              ushort tiitg [[thread_index_in_threadgroup]],
                              ushort3 ntg [[threads_per_threadgroup]],
                              ushort sgitg [[simdgroup_index_in_threadgroup]],
                              ushort tiisg [[thread_index_in_simdgroup]]) {
  threadgroup float q_lat[K2_MLA_MAX_LORA];
  threadgroup float o_part[(K2_MLA_THREADS / 32) * K2_MLA_MAX_LORA];
  threadgroup float m_part[K2_MLA_THREADS / 32];
  threadgroup float s_part[K2_MLA_THREADS / 32];

  const int h = int(tgpig.x), t = int(tgpig.y);
  const int L = args.kv_lora, nope = args.nope_dim, rope = args.rope_dim;
  const int nsg = ntg.x / 32;
  device const float* q = q_all + (t * args.n_heads + h) * (nope + rope);
  device const ushort* w_uk = kv_b + h * (nope + args.v_dim) * L;
  device const ushort* w_uv = w_uk + nope * L;

  for (int l = tiitg; l < L; l += ntg.x) {
    float s = 0.0f;
    for (int i = 0; i < nope; i++) s = fma(q[i], bf16_to_f32(w_uk[i * L + l]), s);
    q_lat[l] = s;
  }
  threadgroup_barrier(mem_flags::mem_threadgroup);

  const int n_ctx = pos[t] + 1;
  float m = -INFINITY, sum = 0.0f;
  float o[K2_MLA_MAX_LORA / 32];
  for (int j = 0; j < K2_MLA_MAX_LORA / 32; j++) o[j] = 0.0f;
  for (int c = sgitg; c < n_ctx; c += nsg) {
    device const float* cc = cache_c + c * L;
    float d = 0.0f;
    for (int l = tiisg; l < L; l += 32) d = fma(q_lat[l], cc[l], d);
    for (int r = tiisg; r < rope; r += 32) d = fma(q[nope + r], cache_pe[c * rope + r], d);
    const float score = simd_sum(d) * args.softmax_scale;
    const float m_new = max(m, score);
    const float corr = exp(m - m_new), p = exp(score - m_new);
    sum = sum * corr + p;
    for (int j = 0; j * 32 + tiisg < L; j++) o[j] = fma(p, cc[j * 32 + tiisg], o[j] * corr);
    m = m_new;
  }
  for (int j = 0; j * 32 + tiisg < L; j++) o_part[sgitg * L + j * 32 + tiisg] = o[j];
  if (tiisg == 0) {
    m_part[sgitg] = m;
    s_part[sgitg] = sum;
  }
  threadgroup_barrier(mem_flags::mem_threadgroup);

  float M = -INFINITY;
  for (int s = 0; s < nsg; s++) M = max(M, m_part[s]);
  float S = 0.0f;
  for (int s = 0; s < nsg; s++) S += s_part[s] * exp(m_part[s] - M);
  // q_lat is free again (every simdgroup is past its last read): it now holds o_lat.
  for (int l = tiitg; l < L; l += ntg.x) {
    float v = 0.0f;
    for (int s = 0; s < nsg; s++) v = fma(o_part[s * L + l], exp(m_part[s] - M), v);
    q_lat[l] = v / S;
  }
  threadgroup_barrier(mem_flags::mem_threadgroup);

  for (int v = sgitg; v < args.v_dim; v += nsg) {
    float d = 0.0f;
    for (int l = tiisg; l < L; l += 32) d = fma(bf16_to_f32(w_uv[v * L + l]), q_lat[l], d);
    d = simd_sum(d);
    if (tiisg == 0) out[(t * args.n_heads + h) * args.v_dim + v] = d;
  }
}

// mla_attention_qblock_f32 (prefill): four queries of one head per threadgroup, one per
// simdgroup; grid (n_heads, ceil(n_tokens / 4)). The cache rows (latent c and k_pe) are staged
// 8 positions at a time in threadgroup memory and used by all four queries, so each row is read
// from device memory once per 4 queries instead of once per query. Each simdgroup keeps its own
// online softmax and sum of p * c; queries past n_tokens only help stage rows.
kernel void mla_attention_qblock_f32(constant K2MlaArgs& args [[buffer(0)]],
                                     device const float* q_all [[buffer(1)]],
                                     device const ushort* kv_b [[buffer(2)]],
                                     device const float* cache_c [[buffer(3)]],
                                     device const float* cache_pe [[buffer(4)]],
                                     device const int* pos [[buffer(5)]],
                                     device float* out [[buffer(6)]],
                                     uint3 tgpig [[threadgroup_position_in_grid]],
                                     ushort tiitg [[thread_index_in_threadgroup]],
                                     ushort3 ntg [[threads_per_threadgroup]],
                                     ushort sgitg [[simdgroup_index_in_threadgroup]],
                                     ushort tiisg [[thread_index_in_simdgroup]]) {
  threadgroup float q_lat[K2_MLA_QBLOCK * K2_MLA_MAX_LORA];
  threadgroup float rows[K2_MLA_TILE * (K2_MLA_MAX_LORA + K2_MLA_MAX_ROPE)];

  const int h = int(tgpig.x), t0 = int(tgpig.y) * K2_MLA_QBLOCK, t = t0 + sgitg;
  const int L = args.kv_lora, nope = args.nope_dim, rope = args.rope_dim, W = L + rope;
  const bool active = t < args.n_tokens;
  device const float* q = q_all + (t * args.n_heads + h) * (nope + rope);
  device const ushort* w_uk = kv_b + h * (nope + args.v_dim) * L;
  device const ushort* w_uv = w_uk + nope * L;
  const int me = sgitg * L;  // this query's row of q_lat

  int n_ctx_max = 0;
  for (int i = t0; i < t0 + K2_MLA_QBLOCK && i < args.n_tokens; i++) n_ctx_max = max(n_ctx_max, pos[i] + 1);
  const int my_ctx = active ? pos[t] + 1 : 0;

  if (active)
    for (int l = tiisg; l < L; l += 32) {
      float s = 0.0f;
      for (int i = 0; i < nope; i++) s = fma(q[i], bf16_to_f32(w_uk[i * L + l]), s);
      q_lat[me + l] = s;
    }

  float m = -INFINITY, sum = 0.0f;
  float o[K2_MLA_MAX_LORA / 32];
  for (int j = 0; j < K2_MLA_MAX_LORA / 32; j++) o[j] = 0.0f;
  for (int c0 = 0; c0 < n_ctx_max; c0 += K2_MLA_TILE) {
    threadgroup_barrier(mem_flags::mem_threadgroup);  // previous tile fully used
    for (int i = tiitg; i < K2_MLA_TILE * W; i += ntg.x) {
      const int r = i / W, k = i % W, c = c0 + r;
      float v = 0.0f;
      if (c < n_ctx_max) v = k < L ? cache_c[c * L + k] : cache_pe[c * rope + (k - L)];
      rows[i] = v;
    }
    threadgroup_barrier(mem_flags::mem_threadgroup);
    for (int r = 0; r < K2_MLA_TILE && c0 + r < my_ctx; r++) {
      const int row = r * W;
      float d = 0.0f;
      for (int l = tiisg; l < L; l += 32) d = fma(q_lat[me + l], rows[row + l], d);
      for (int k = tiisg; k < rope; k += 32) d = fma(q[nope + k], rows[row + L + k], d);
      const float score = simd_sum(d) * args.softmax_scale;
      const float m_new = max(m, score);
      const float corr = exp(m - m_new), p = exp(score - m_new);
      sum = sum * corr + p;
      for (int j = 0; j * 32 + tiisg < L; j++) o[j] = fma(p, rows[row + j * 32 + tiisg], o[j] * corr);
      m = m_new;
    }
  }
  // This query's q_lat row now receives o_lat.
  threadgroup_barrier(mem_flags::mem_threadgroup);
  if (active)
    for (int j = 0; j * 32 + tiisg < L; j++) q_lat[me + j * 32 + tiisg] = o[j] / sum;
  threadgroup_barrier(mem_flags::mem_threadgroup);
  if (!active) return;
  for (int v = 0; v < args.v_dim; v++) {
    float d = 0.0f;
    for (int l = tiisg; l < L; l += 32) d = fma(bf16_to_f32(w_uv[v * L + l]), q_lat[me + l], d);
    d = simd_sum(d);
    if (tiisg == 0) out[(t * args.n_heads + h) * args.v_dim + v] = d;
  }
}
