// The one interface between the K2 forward pass and the hardware.
//
// The model (native-metal/model/) is written once against these ops and never knows which
// backend runs them. The ops are drawn around what DeepSeek-V3/K2 needs, not around a general
// tensor library: INT4 and BF16 matmul, RMSNorm, YaRN RoPE, absorbed MLA attention over the
// latent cache, router top-k, SwiGLU and the grouped routed-expert FFN.
//
// Conventions
// - Activations are f32, row-major, one row per token. Weights are row-major [rows=out, cols=in]
//   exactly as stored in the checkpoint (y = x · Wᵀ), never converted at load time.
// - Every pointer an op receives was either returned by alloc() or lies inside memory given to
//   register_host_memory() (the mmapped shards, expert-cache slots). The Metal backend relies on
//   that to find the MTLBuffer behind a pointer on unified memory.
// - Ops may run asynchronously (Metal encodes them into a command buffer). Before the host reads
//   anything an op wrote (router choices, logits) it must call sync(). The CPU backend runs each
//   op to completion, so sync() is free there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace k2 {

// A BF16 matrix as stored in safetensors: [rows, cols] row-major, raw bf16 bits.
struct Bf16Matrix {
  const uint16_t* data = nullptr;
  int rows = 0;
  int cols = 0;
};

// A compressed-tensors pack-quantized INT4 matrix (symmetric, group 32). Element (o, i) is
//   (((packed[o*cols/8 + i/8] >> (4*(i%8))) & 0xF) - 8) * bf16(scales[o*cols/32 + i/32])
// Element 0 sits in the low nibble; values are stored offset by +8.
struct Int4Matrix {
  const uint32_t* packed = nullptr;  // [rows, cols/8]
  const uint16_t* scales = nullptr;  // bf16 [rows, cols/32]
  int rows = 0;
  int cols = 0;
};

// One routed expert: the three projections of a SwiGLU FFN, INT4 (K2 Thinking's release) or,
// in an unquantized checkpoint, BF16. moe_experts() runs INT4 experts only; the model computes
// BF16 experts with matmul_bf16 / swiglu, so no backend needs a kernel for them.
struct ExpertWeights {
  Int4Matrix gate;  // [inter, dim]
  Int4Matrix up;    // [inter, dim]
  Int4Matrix down;  // [dim, inter]
  bool bf16 = false;  // true: the *_bf16 matrices hold the weights and the Int4Matrix views are empty
  Bf16Matrix gate_bf16, up_bf16, down_bf16;
};

// The tokens of a batch routed to one expert. out[rows[j]] += weights[j] * expert(x[rows[j]]).
struct MoeGroup {
  const ExpertWeights* expert = nullptr;
  int n_rows = 0;
  const int32_t* rows = nullptr;    // token rows of x / out
  const float* weights = nullptr;   // routing weight of each row (already normalised and scaled)
};

// How the CPU computes dot products against quantized weights.
//   exact: f32 activations, f32 accumulation (matches the float64 reference to ~1e-4).
//   fast:  activations quantized to int8 per group of 32 for integer dot products (llama.cpp's
//          trade: fewer bytes and instructions per weight, ~1e-2 logit error).
enum class CpuMode { exact, fast };

struct MlaAttentionArgs {
  int n_tokens = 0;    // query rows
  int n_heads = 0;
  int nope_dim = 0;    // qk_nope_head_dim
  int rope_dim = 0;    // qk_rope_head_dim
  int v_dim = 0;       // v_head_dim
  int kv_lora = 0;     // kv_lora_rank
  const float* q = nullptr;          // [n_tokens, n_heads, nope_dim + rope_dim]; q_pe already roped
  Bf16Matrix kv_b;                   // [n_heads*(nope_dim+v_dim), kv_lora]: W_uk rows then W_uv rows per head
  const float* cache_c = nullptr;    // [>= max(pos)+1, kv_lora] normalised latent per position
  const float* cache_pe = nullptr;   // [>= max(pos)+1, rope_dim] roped k_pe per position
  const int32_t* pos = nullptr;      // [n_tokens] position of each query; it attends to 0..pos inclusive
  float softmax_scale = 1.0f;
  float* out = nullptr;              // [n_tokens, n_heads * v_dim]
};

struct RouterArgs {
  int n_tokens = 0;
  int n_experts = 0;
  int top_k = 0;
  int n_group = 1;
  int topk_group = 1;
  bool norm_topk_prob = true;
  float routed_scaling_factor = 1.0f;
  const float* logits = nullptr;   // [n_tokens, n_experts] router logits (before sigmoid)
  const float* bias = nullptr;     // [n_experts] e_score_correction_bias: selection only
  int32_t* expert_ids = nullptr;   // [n_tokens, top_k] out
  float* weights = nullptr;        // [n_tokens, top_k] out: sigmoid scores of the chosen, normalised, scaled
};

// One product of matmul_bf16_multi: y[n, w.rows] = x · wᵀ.
struct Bf16Product {
  Bf16Matrix w;
  float* y = nullptr;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;

  // Memory the ops may touch. alloc() returns zeroed memory aligned to at least 16 KiB.
  virtual void* alloc(size_t bytes) = 0;
  virtual void free(void* p) = 0;
  virtual void register_host_memory(const void* base, size_t bytes) {}
  virtual void unregister_host_memory(const void* base) {}
  // Waits until every op issued so far has finished and its results are visible to the host.
  virtual void sync() {}
  // Syncs so far that had to wait for issued work (each one a command-buffer round trip on a
  // GPU): the model keeps these to one per MoE layer plus one for the logits. 0 on the CPU, whose
  // ops run to completion.
  virtual uint64_t waits() const { return 0; }

  // y[n, w.rows] = x[n, w.cols] · wᵀ
  virtual void matmul_bf16(const float* x, int n, const Bf16Matrix& w, float* y) = 0;
  virtual void matmul_int4(const float* x, int n, const Int4Matrix& w, float* y) = 0;
  // Several matrices against the same activations (every w.cols equal): q_a with kv_a, the router
  // with the shared expert's gate and up. The CPU runs them as one parallel region (decode has
  // ~10 regions per layer, each a wake-up and a join); elsewhere it is one matmul_bf16 each.
  virtual void matmul_bf16_multi(const float* x, int n, const Bf16Product* products, int count) {
    for (int i = 0; i < count; i++) matmul_bf16(x, n, products[i].w, products[i].y);
  }
  // out[i, :] = bf16 rows of table selected by ids[i]
  virtual void embed_bf16(const Bf16Matrix& table, const int32_t* ids, int n, float* out) = 0;
  // y[i] = x[i] * rsqrt(mean(x[i]²) + eps) * w   (x and y may alias). Rows are `stride` floats apart
  // so a sub-range of a wider row (the latent c inside kv_a's output) can be normalised in place.
  virtual void rmsnorm(const float* x, int n, int dim, int stride, const uint16_t* w_bf16, float eps, float* y) = 0;
  // Rotates interleaved pairs (x[2i], x[2i+1]) of `rope_dim` values in place, for `n_heads` heads
  // per row: row r starts at x + r*row_stride, head h at + h*head_stride. inv_freq has rope_dim/2
  // entries (YaRN-corrected); angle = pos[r] * inv_freq[i].
  virtual void rope(float* x, int n, int n_heads, int row_stride, int head_stride, int rope_dim,
                    const int32_t* pos, const float* inv_freq) = 0;
  virtual void mla_attention(const MlaAttentionArgs& a) = 0;
  virtual void router_topk(const RouterArgs& a) = 0;
  // out[i] = silu(gate[i]) * up[i], n*dim values
  virtual void swiglu(const float* gate, const float* up, int n, int dim, float* out) = 0;
  // y[i] += x[i], n values
  virtual void add(float* y, const float* x, size_t n) = 0;
  // Appends n rows of the kv projection (row_stride apart: kv_lora latent, then rope_dim roped-key
  // values) to a layer's latent cache at positions start.. . On the device, so the model need not
  // wait for earlier ops before the host could copy them.
  virtual void kv_append(const float* kv, int n, int row_stride, int kv_lora, int rope_dim, float* cache_c, float* cache_pe,
                         int start) = 0;
  // For each group: out[rows] += weights * down(silu(gate(x[rows])) ⊙ up(x[rows])).
  // The backend schedules all groups together (one parallel region on CPU, one encoder on Metal).
  virtual void moe_experts(const float* x, int dim, int inter, const MoeGroup* groups, int n_groups,
                           float* out) = 0;
  // moe_experts, plus one BF16 product independent of it (with.y[with_n, rows] = with_x · with.wᵀ;
  // the model: the shared expert's down projection). A backend may run both in one pass; the
  // results are those of the two calls.
  virtual void moe_experts_with(const float* x, int dim, int inter, const MoeGroup* groups, int n_groups, float* out,
                                const float* with_x, int with_n, const Bf16Product& with) {
    matmul_bf16(with_x, with_n, with.w, with.y);
    moe_experts(x, dim, inter, groups, n_groups, out);
  }
};

}  // namespace k2
