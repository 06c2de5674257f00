#include "backend/metal_dispatch/metal_dispatch_backend.h"

#include <algorithm>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

#include "kargs.h"

namespace k2 {

namespace {

uint32_t ceil_div(int64_t a, int64_t b) { return static_cast<uint32_t>((a + b - 1) / b); }

// Threads for a loop over `work` items: whole simdgroups, at most `cap`.
int threads_for(int64_t work, int cap) { return static_cast<int>(std::clamp<int64_t>((work + 31) / 32 * 32, 32, cap)); }

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("metal backend: " + what);
}

// GPU loads of uint words need 4-byte alignment (the CPU tolerates less): a checkpoint whose
// INT4 tensors start off a word boundary is reported, not read as garbage.
void require_int4_aligned(const Int4Matrix& w, const char* op) {
  require(reinterpret_cast<uintptr_t>(w.packed) % 4 == 0 && reinterpret_cast<uintptr_t>(w.scales) % 2 == 0,
          std::string(op) + ": INT4 weights are not 4-byte aligned in the checkpoint mapping");
}

}  // namespace

MetalDispatchBackend::MetalDispatchBackend(std::unique_ptr<MetalDevice> device) : dev_(std::move(device)) {}

MetalDispatchBackend::~MetalDispatchBackend() {
  if (moe_scratch_) dev_->free(moe_scratch_);
}

std::string MetalDispatchBackend::name() const { return dev_->name(); }
void* MetalDispatchBackend::alloc(size_t bytes) { return dev_->alloc(bytes); }
void MetalDispatchBackend::free(void* p) { dev_->free(p); }
void MetalDispatchBackend::register_host_memory(const void* base, size_t bytes) { dev_->register_host_memory(base, bytes); }
void MetalDispatchBackend::unregister_host_memory(const void* base) { dev_->unregister_host_memory(base); }
void MetalDispatchBackend::sync() {
  // Nothing issued since the last sync: nothing to wait for (and no empty command buffer).
  if (!issued_) return;
  dev_->sync();
  issued_ = false;
  waits_++;
}

template <typename Args>
void MetalDispatchBackend::launch(const char* kernel, const Args& args, std::initializer_list<const void*> buffers, uint32_t gx,
                                  uint32_t gy, int threads) {
  KernelLaunch l;
  l.kernel = kernel;
  l.args = &args;
  l.args_bytes = sizeof(Args);
  l.buffers = buffers.begin();
  l.n_buffers = static_cast<int>(buffers.size());
  l.grid[0] = gx;
  l.grid[1] = gy;
  l.threads = threads;
  if (gx == 0 || gy == 0) return;  // nothing to compute
  dev_->launch(l);
  issued_ = true;
}

void MetalDispatchBackend::matmul_bf16(const float* x, int n, const Bf16Matrix& w, float* y) {
  const K2MatmulArgs a{n, w.rows, w.cols};
  if (n >= kTiledMinRows)
    launch("bf16_matmul_f32", a, {x, w.data, y}, ceil_div(w.rows, K2_MATMUL_TILE), ceil_div(n, K2_MATMUL_TILE), 128);
  else
    launch("bf16_matvec_f32", a, {x, w.data, y}, ceil_div(w.rows, K2_MATVEC_ROWS_PER_TG), n, 32 * K2_MATVEC_ROWS_PER_TG);
}

void MetalDispatchBackend::matmul_int4(const float* x, int n, const Int4Matrix& w, float* y) {
  require(w.cols % 32 == 0, "matmul_int4: cols must be a multiple of 32, got " + std::to_string(w.cols));
  require_int4_aligned(w, "matmul_int4");
  const K2MatmulArgs a{n, w.rows, w.cols};
  if (n >= kTiledMinRows)
    launch("int4_matmul_f32", a, {x, w.packed, w.scales, y}, ceil_div(w.rows, K2_MATMUL_TILE), ceil_div(n, K2_MATMUL_TILE), 128);
  else
    launch("int4_matvec_f32", a, {x, w.packed, w.scales, y}, ceil_div(w.rows, K2_MATVEC_ROWS_PER_TG), n, 32 * K2_MATVEC_ROWS_PER_TG);
}

void MetalDispatchBackend::embed_bf16(const Bf16Matrix& table, const int32_t* ids, int n, float* out) {
  // ids are host-written (unified memory): checked here, where an error can still be reported.
  for (int i = 0; i < n; i++)
    if (ids[i] < 0 || ids[i] >= table.rows)
      throw std::out_of_range("embed: token id " + std::to_string(ids[i]) + " outside vocabulary of " + std::to_string(table.rows));
  const K2EmbedArgs a{n, table.cols};
  launch("embed_bf16_f32", a, {table.data, ids, out}, ceil_div(table.cols, K2_ELEMWISE_THREADS), n, K2_ELEMWISE_THREADS);
}

void MetalDispatchBackend::rmsnorm(const float* x, int n, int dim, int stride, const uint16_t* w, float eps, float* y) {
  const K2RmsNormArgs a{n, dim, stride, eps};
  launch("rmsnorm_f32", a, {x, w, y}, n, 1, threads_for(dim, K2_NORM_THREADS));
}

void MetalDispatchBackend::rope(float* x, int n, int n_heads, int row_stride, int head_stride, int rope_dim, const int32_t* pos,
                                const float* inv_freq) {
  require(rope_dim % 2 == 0, "rope: rope_dim must be even, got " + std::to_string(rope_dim));
  const K2RopeArgs a{n, n_heads, row_stride, head_stride, rope_dim};
  launch("rope_f32", a, {x, pos, inv_freq}, n, 1, threads_for(static_cast<int64_t>(n_heads) * rope_dim / 2, 256));
}

void MetalDispatchBackend::mla_attention(const MlaAttentionArgs& m) {
  require(m.kv_lora <= K2_MLA_MAX_LORA, "mla_attention: kv_lora_rank " + std::to_string(m.kv_lora) + " exceeds the kernel's " +
                                            std::to_string(K2_MLA_MAX_LORA));
  const K2MlaArgs a{m.n_tokens, m.n_heads, m.nope_dim, m.rope_dim, m.v_dim, m.kv_lora, m.softmax_scale};
  // Prefill: blocks of queries share each staged cache row. Decode: one query's positions split
  // across four simdgroups.
  if (m.n_tokens >= K2_MLA_QBLOCK && m.rope_dim <= K2_MLA_MAX_ROPE)
    launch("mla_attention_qblock_f32", a, {m.q, m.kv_b.data, m.cache_c, m.cache_pe, m.pos, m.out}, m.n_heads,
           ceil_div(m.n_tokens, K2_MLA_QBLOCK), K2_MLA_THREADS);
  else
    launch("mla_attention_f32", a, {m.q, m.kv_b.data, m.cache_c, m.cache_pe, m.pos, m.out}, m.n_heads, m.n_tokens, K2_MLA_THREADS);
}

void MetalDispatchBackend::router_topk(const RouterArgs& r) {
  const int E = r.n_experts;
  require(r.top_k > 0 && r.top_k <= E, "router_topk: top_k " + std::to_string(r.top_k) + " vs " + std::to_string(E) + " experts");
  require(r.n_group > 0 && E % r.n_group == 0, "router_topk: n_group must divide n_experts");
  require(E <= K2_ROUTER_MAX_EXPERTS, "router_topk: " + std::to_string(E) + " experts exceed the kernel's " +
                                          std::to_string(K2_ROUTER_MAX_EXPERTS));
  require(r.n_group <= K2_ROUTER_MAX_GROUPS, "router_topk: more than " + std::to_string(K2_ROUTER_MAX_GROUPS) + " groups");
  const K2RouterArgs a{r.n_tokens, E, r.top_k, r.n_group, r.topk_group, r.norm_topk_prob ? 1 : 0, r.routed_scaling_factor,
                       r.bias ? 1 : 0};
  launch("router_topk_f32", a, {r.logits, r.bias, r.expert_ids, r.weights}, r.n_tokens, 1, 32);
}

void MetalDispatchBackend::swiglu(const float* gate, const float* up, int n, int dim, float* out) {
  const int64_t total = static_cast<int64_t>(n) * dim;
  const K2ElementwiseArgs a{static_cast<int>(total)};
  launch("swiglu_f32", a, {gate, up, out}, ceil_div(total, K2_ELEMWISE_THREADS), 1, K2_ELEMWISE_THREADS);
}

void MetalDispatchBackend::add(float* y, const float* x, size_t n) {
  require(n < (1u << 31), "add: too many values for one dispatch");
  const K2ElementwiseArgs a{static_cast<int>(n)};
  launch("add_f32", a, {y, x}, ceil_div(static_cast<int64_t>(n), K2_ELEMWISE_THREADS), 1, K2_ELEMWISE_THREADS);
}

void MetalDispatchBackend::kv_append(const float* kv, int n, int row_stride, int kv_lora, int rope_dim, float* cache_c,
                                     float* cache_pe, int start) {
  const K2KvAppendArgs a{n, row_stride, kv_lora, rope_dim, start};
  launch("kv_append_f32", a, {kv, cache_c, cache_pe}, ceil_div(kv_lora + rope_dim, K2_ELEMWISE_THREADS), n, K2_ELEMWISE_THREADS);
}

void MetalDispatchBackend::moe_experts(const float* x, int dim, int inter, const MoeGroup* groups, int n_groups, float* out) {
  if (n_groups <= 0) return;
  require(dim % 32 == 0 && inter % 32 == 0, "moe_experts: dim and inter must be multiples of 32 (INT4 groups)");
  std::vector<size_t> offset(n_groups + 1, 0);
  for (int g = 0; g < n_groups; g++) offset[g + 1] = offset[g] + groups[g].n_rows;
  const size_t total = offset[n_groups];
  if (total == 0) return;
  // Per routed row: h (inter) for both paths; xg (dim), u (inter), y (dim) for the tiled path.
  const size_t per_row = static_cast<size_t>(2) * inter + 2 * static_cast<size_t>(dim);
  const size_t need = total * per_row;
  if (need > moe_scratch_floats_) {
    // The old scratch may still be read by issued launches: wait before freeing it.
    sync();
    if (moe_scratch_) dev_->free(moe_scratch_);
    moe_scratch_ = nullptr;
    moe_scratch_ = static_cast<float*>(dev_->alloc(need * sizeof(float)));
    moe_scratch_floats_ = need;
  }
  for (int g = 0; g < n_groups; g++) {
    const MoeGroup& G = groups[g];
    if (G.n_rows == 0) continue;
    const ExpertWeights& e = *G.expert;
    for (const Int4Matrix* m : {&e.gate, &e.up, &e.down}) require_int4_aligned(*m, "moe_experts");
    const K2MoeArgs a{G.n_rows, dim, inter};
    float* h = moe_scratch_ + offset[g] * per_row;
    if (G.n_rows >= kTiledMinRows) {
      // Many tokens on one expert (prefill): gather them, then the tiled matmuls read each
      // weight once per 32 tokens instead of once per token.
      float* xg = h + static_cast<size_t>(G.n_rows) * inter;
      float* u = xg + static_cast<size_t>(G.n_rows) * dim;
      float* y = u + static_cast<size_t>(G.n_rows) * inter;
      const uint32_t cols = ceil_div(dim, K2_ELEMWISE_THREADS);
      launch("moe_gather_rows_f32", a, {x, G.rows, xg}, cols, G.n_rows, K2_ELEMWISE_THREADS);
      matmul_int4(xg, G.n_rows, e.gate, h);
      matmul_int4(xg, G.n_rows, e.up, u);
      swiglu(h, u, G.n_rows, inter, h);
      matmul_int4(h, G.n_rows, e.down, y);
      launch("moe_scatter_add_f32", a, {y, G.rows, G.weights, out}, cols, G.n_rows, K2_ELEMWISE_THREADS);
      continue;
    }
    launch("moe_gate_up_int4_f32", a, {x, G.rows, e.gate.packed, e.gate.scales, e.up.packed, e.up.scales, h},
           ceil_div(inter, K2_MATVEC_ROWS_PER_TG), G.n_rows, 32 * K2_MATVEC_ROWS_PER_TG);
    launch("moe_down_int4_f32", a, {h, G.rows, G.weights, e.down.packed, e.down.scales, out}, ceil_div(dim, K2_MATVEC_ROWS_PER_TG),
           G.n_rows, 32 * K2_MATVEC_ROWS_PER_TG);
  }
}

}  // namespace k2
