// Kernel parameter structs, included by the .metal sources and by the C++ dispatch layer so the
// host and the shaders cannot disagree about a layout (ggml-metal-impl.h's idea). Only int and
// float fields (4 bytes, same alignment in MSL and C++), no headers: this file is valid MSL and C++.
// Each kernel takes its struct as `constant K2...Args& args [[buffer(0)]]`.
#ifndef K2_SHADERS_KARGS_H
#define K2_SHADERS_KARGS_H

// Limits the kernels size their threadgroup arrays by; the dispatch layer checks them.
#define K2_MLA_MAX_LORA 512      // kv_lora_rank (K2: 512)
#define K2_MLA_THREADS 128       // threads of one MLA attention threadgroup (4 simdgroups)
#define K2_MLA_MAX_ROPE 64       // qk_rope_head_dim the query-block kernel stages (K2: 64)
#define K2_MLA_QBLOCK 4          // queries per threadgroup of mla_attention_qblock_f32 (one per simdgroup)
#define K2_MLA_TILE 8            // cache positions staged per step by mla_attention_qblock_f32
#define K2_ROUTER_MAX_EXPERTS 512
#define K2_ROUTER_MAX_GROUPS 32
#define K2_MATVEC_ROWS_PER_TG 4  // one simdgroup per output row
#define K2_MATMUL_TILE 32        // tiled matmul: 32 tokens x 32 output rows x 32 inputs per step
#define K2_NORM_THREADS 256
#define K2_ELEMWISE_THREADS 256

// y[n, rows] = x[n, cols] . w^T (matvec and tiled matmul, bf16 and int4)
struct K2MatmulArgs {
  int n;
  int rows;
  int cols;
};

// out[i, :] = table[ids[i], :]
struct K2EmbedArgs {
  int n;
  int cols;
};

// y = x * rsqrt(mean(x^2) + eps) * w over `dim` values of each row; rows `stride` floats apart.
struct K2RmsNormArgs {
  int n;
  int dim;
  int stride;
  float eps;
};

// Interleaved-pair rotation of rope_dim values of n_heads heads per row.
struct K2RopeArgs {
  int n;
  int n_heads;
  int row_stride;
  int head_stride;
  int rope_dim;
};

// n new rows of the kv projection (row_stride apart: kv_lora latent values, then rope_dim roped
// key values) written into the latent cache at positions start..start+n-1.
struct K2KvAppendArgs {
  int n;
  int row_stride;
  int kv_lora;
  int rope_dim;
  int start;
};

// Absorbed MLA attention of one (head, query) per threadgroup over the latent cache.
struct K2MlaArgs {
  int n_tokens;
  int n_heads;
  int nope_dim;
  int rope_dim;
  int v_dim;
  int kv_lora;
  float softmax_scale;
};

// Sigmoid router with correction bias, optional group limit, top-k, normalisation and scaling.
struct K2RouterArgs {
  int n_tokens;
  int n_experts;
  int top_k;
  int n_group;
  int topk_group;
  int norm_topk_prob;
  float routed_scaling_factor;
  int has_bias;
};

// swiglu, add: n values
struct K2ElementwiseArgs {
  int n;
};

// One routed expert's tokens: rows[j] of x (gate/up) or of out (down), j < n_rows.
struct K2MoeArgs {
  int n_rows;
  int dim;
  int inter;
};

// argmax over n logits of each of `rows` rows (greedy sampling on the device)
struct K2ArgmaxArgs {
  int rows;
  int n;
};

#endif
