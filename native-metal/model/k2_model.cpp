#include "model/k2_model.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "model/model_config.h"

namespace k2 {

float* K2Model::buf(size_t floats) {
  void* p = b_.alloc(std::max<size_t>(floats, 1) * sizeof(float));
  owned_.push_back(p);
  return static_cast<float*>(p);
}

K2Model::K2Model(const ModelConfig& config, const Weights& weights, Backend& backend, ExpertProvider& experts, int max_chunk)
    : c_(config), w_(weights), b_(backend), experts_(experts), max_chunk_(max_chunk) {
  validate_config(c_);
  inv_freq_host_ = rope_inv_freq(c_);
  softmax_scale_ = attention_softmax_scale(c_);
  const size_t C = max_chunk_, D = c_.hidden_size, H = c_.num_attention_heads;
  const size_t qk = c_.qk_nope_head_dim + c_.qk_rope_head_dim;
  const size_t ffn = std::max<size_t>(c_.intermediate_size, static_cast<size_t>(c_.moe_intermediate_size) * std::max(1, c_.n_shared_experts));
  const size_t K = std::max(1, c_.num_experts_per_tok);
  try {
    inv_freq_ = buf(inv_freq_host_.size());
    std::memcpy(inv_freq_, inv_freq_host_.data(), inv_freq_host_.size() * sizeof(float));
    h_ = buf(C * D);
    xn_ = buf(C * D);
    qa_ = buf(C * std::max(1, c_.q_lora_rank));
    q_ = buf(C * H * qk);
    kv_ = buf(C * (c_.kv_lora_rank + c_.qk_rope_head_dim));
    attn_ = buf(C * H * c_.v_head_dim);
    tmp_ = buf(C * D);
    ffn_g_ = buf(C * ffn);
    ffn_u_ = buf(C * ffn);
    if (c_.n_shared_experts > 0) {
      const size_t shared = static_cast<size_t>(c_.moe_intermediate_size) * c_.n_shared_experts;
      shared_g_ = buf(C * shared);
      shared_u_ = buf(C * shared);
    }
    router_logits_ = buf(C * std::max(1, c_.n_routed_experts));
    route_w_ = buf(C * K);
    route_ids_ = reinterpret_cast<int32_t*>(buf(C * K));
    moe_rows_ = reinterpret_cast<int32_t*>(buf(C * K));
    moe_w_ = buf(C * K);
    pf_logits_ = buf(C * std::max(1, c_.n_routed_experts));
    pf_w_ = buf(C * K);
    pf_ids_ = reinterpret_cast<int32_t*>(buf(C * K));
    bool bf16_experts = false;
    for (const LayerWeights& L : w_.layers) bf16_experts = bf16_experts || (!L.experts.empty() && L.experts[0].bf16);
    if (bf16_experts) moe_x_ = buf(C * D);
    tok_ = reinterpret_cast<int32_t*>(buf(C));
    pos_ = reinterpret_cast<int32_t*>(buf(C));
    logit_rows_ = buf(c_.vocab_size);
    logit_rows_cap_ = 1;
  } catch (...) {
    for (void* p : owned_) b_.free(p);
    throw;
  }
}

K2Model::~K2Model() {
  for (void* p : owned_) b_.free(p);
}

std::unique_ptr<KvCache> K2Model::new_cache(int capacity) {
  return std::make_unique<KvCache>(b_, c_.num_hidden_layers, c_.kv_lora_rank, c_.qk_rope_head_dim, capacity);
}

void K2Model::forward(const int32_t* ids, int n, KvCache& cache, LogitsMode mode, std::vector<float>* logits,
                      std::vector<std::vector<int32_t>>* routes) {
  if (n <= 0) throw std::invalid_argument("forward: no tokens");
  if (cache.length() + n > cache.capacity())
    throw std::length_error("context full: " + std::to_string(cache.length()) + " cached + " + std::to_string(n) +
                            " new tokens exceed the KV cache capacity of " + std::to_string(cache.capacity()));
  if (cache.length() + n > c_.max_position_embeddings)
    throw std::length_error("position " + std::to_string(cache.length() + n - 1) + " exceeds max_position_embeddings " +
                            std::to_string(c_.max_position_embeddings));
  for (int i = 0; i < n; i++)
    if (ids[i] < 0 || ids[i] >= c_.vocab_size)
      throw std::out_of_range("token id " + std::to_string(ids[i]) + " at index " + std::to_string(i) + " outside vocabulary 0.." +
                              std::to_string(c_.vocab_size - 1));
  if (logits) logits->clear();
  if (routes) routes->assign(c_.num_hidden_layers, {});
  for (int s = 0; s < n; s += max_chunk_) {
    const int m = std::min(max_chunk_, n - s);
    forward_chunk(ids + s, m, cache, mode, s + m == n, logits, routes);
  }
  // A pass without logits ends with work still issued: finish it so the caller sees a complete
  // cache and no expert stays held between passes.
  b_.sync();
  release_pending();
}

void K2Model::forward_chunk(const int32_t* ids, int n, KvCache& cache, LogitsMode mode, bool last_chunk,
                            std::vector<float>* logits, std::vector<std::vector<int32_t>>* routes) {
  const int D = c_.hidden_size;
  const int start = cache.length();
  // The previous chunk may still be running on a GPU backend (nothing waits for a chunk without
  // logits): it reads tok_ and pos_, which the host is about to overwrite.
  b_.sync();
  release_pending();
  for (int i = 0; i < n; i++) {
    tok_[i] = ids[i];
    pos_[i] = start + i;
  }
  b_.embed_bf16(w_.embed, tok_, n, h_);
  for (int l = 0; l < c_.num_hidden_layers; l++) {
    const LayerWeights& L = w_.layers[l];
    b_.rmsnorm(h_, n, D, D, L.input_norm, c_.rms_norm_eps, xn_);
    attention(l, n, start, cache);
    b_.matmul_bf16(attn_, n, L.o_proj, tmp_);
    b_.add(h_, tmp_, static_cast<size_t>(n) * D);
    b_.rmsnorm(h_, n, D, D, L.post_attention_norm, c_.rms_norm_eps, xn_);
    if (L.moe)
      moe_ffn(l, L, n, routes);
    else
      dense_ffn(L, n);
  }
  cache.set_length(start + n);
  if (mode == LogitsMode::none || !logits) return;
  if (mode == LogitsMode::last && !last_chunk) return;
  const int first = mode == LogitsMode::all ? 0 : n - 1;
  const int rows = n - first;
  if (logit_rows_cap_ < static_cast<size_t>(rows)) {
    float* p = buf(static_cast<size_t>(rows) * c_.vocab_size);
    logit_rows_ = p;
    logit_rows_cap_ = rows;
  }
  b_.rmsnorm(h_ + static_cast<size_t>(first) * D, rows, D, D, w_.final_norm, c_.rms_norm_eps, xn_);
  b_.matmul_bf16(xn_, rows, w_.lm_head, logit_rows_);
  b_.sync();
  release_pending();
  logits->insert(logits->end(), logit_rows_, logit_rows_ + static_cast<size_t>(rows) * c_.vocab_size);
}

void K2Model::attention(int layer, int n, int start, KvCache& cache) {
  const LayerWeights& L = w_.layers[layer];
  const int H = c_.num_attention_heads, nope = c_.qk_nope_head_dim, rope = c_.qk_rope_head_dim;
  const int qk = nope + rope, lora = c_.kv_lora_rank, kvw = lora + rope;
  if (c_.q_lora_rank > 0) {
    const Bf16Product down[] = {{L.q_a, qa_}, {L.kv_a, kv_}};
    b_.matmul_bf16_multi(xn_, n, down, 2);
    b_.rmsnorm(qa_, n, c_.q_lora_rank, c_.q_lora_rank, L.q_a_norm, c_.rms_norm_eps, qa_);
    b_.matmul_bf16(qa_, n, L.q_b, q_);
  } else {
    const Bf16Product proj[] = {{L.q_proj, q_}, {L.kv_a, kv_}};
    b_.matmul_bf16_multi(xn_, n, proj, 2);
  }
  b_.rmsnorm(kv_, n, lora, kvw, L.kv_a_norm, c_.rms_norm_eps, kv_);
  b_.rope(q_ + nope, n, H, H * qk, qk, rope, pos_, inv_freq_);
  b_.rope(kv_ + lora, n, 1, kvw, 0, rope, pos_, inv_freq_);
  float* cc = cache.c(layer);
  float* cp = cache.pe(layer);
  b_.kv_append(kv_, n, kvw, lora, rope, cc, cp, start);
  MlaAttentionArgs a;
  a.n_tokens = n;
  a.n_heads = H;
  a.nope_dim = nope;
  a.rope_dim = rope;
  a.v_dim = c_.v_head_dim;
  a.kv_lora = lora;
  a.q = q_;
  a.kv_b = L.kv_b;
  a.cache_c = cc;
  a.cache_pe = cp;
  a.pos = pos_;
  a.softmax_scale = softmax_scale_;
  a.out = attn_;
  b_.mla_attention(a);
}

void K2Model::dense_ffn(const LayerWeights& L, int n) {
  const int D = c_.hidden_size, I = L.gate.rows;
  const Bf16Product gate_up[] = {{L.gate, ffn_g_}, {L.up, ffn_u_}};
  b_.matmul_bf16_multi(xn_, n, gate_up, 2);
  b_.swiglu(ffn_g_, ffn_u_, n, I, ffn_g_);
  b_.matmul_bf16(ffn_g_, n, L.down, tmp_);
  b_.add(h_, tmp_, static_cast<size_t>(n) * D);
}

void K2Model::route(const LayerWeights& L, int n, float* logits, int32_t* ids, float* weights, const Bf16Product* with, int n_with) {
  // Once per MoE layer per token: on the stack (the callers pass the shared expert's gate and up).
  Bf16Product products[3] = {{L.router, logits}};
  if (n_with < 0 || n_with > 2) throw std::logic_error("route: at most 2 products ride along with the router");
  std::copy(with, with + n_with, products + 1);
  b_.matmul_bf16_multi(xn_, n, products, 1 + n_with);
  RouterArgs r;
  r.n_tokens = n;
  r.n_experts = c_.n_routed_experts;
  r.top_k = c_.num_experts_per_tok;
  r.n_group = c_.n_group;
  r.topk_group = c_.topk_group;
  r.norm_topk_prob = c_.norm_topk_prob;
  r.routed_scaling_factor = c_.routed_scaling_factor;
  r.logits = logits;
  r.bias = L.router_bias;
  r.expert_ids = ids;
  r.weights = weights;
  b_.router_topk(r);
  b_.sync();
  release_pending();
}

void K2Model::release_pending() {
  if (pending_release_ < 0) return;
  const int layer = pending_release_;
  pending_release_ = -1;
  experts_.release(layer);
}

void K2Model::moe_ffn(int layer, const LayerWeights& L, int n, std::vector<std::vector<int32_t>>* routes) {
  const int D = c_.hidden_size, E = c_.n_routed_experts, K = c_.num_experts_per_tok;
  // The shared expert's gate and up read the same activations as the router: one pass for all
  // three. Own buffers: BF16 routed experts (bf16_expert) use ffn_g_ / ffn_u_ before it finishes.
  const int S = c_.n_shared_experts > 0 ? L.shared_gate.rows : 0;
  const Bf16Product shared[] = {{L.shared_gate, shared_g_}, {L.shared_up, shared_u_}};
  route(L, n, router_logits_, route_ids_, route_w_, shared, S > 0 ? 2 : 0);
  if (routes) (*routes)[layer].insert((*routes)[layer].end(), route_ids_, route_ids_ + static_cast<size_t>(n) * K);

  // Group the chunk's tokens by the expert they chose (counting sort keeps token order).
  std::vector<int> count(E, 0);
  for (int i = 0; i < n * K; i++) count[route_ids_[i]]++;
  std::vector<int32_t> used;
  std::vector<int> start(E, 0);
  int acc = 0;
  for (int e = 0; e < E; e++) {
    start[e] = acc;
    acc += count[e];
    if (count[e]) used.push_back(e);
  }
  std::vector<int> fill(start);
  for (int t = 0; t < n; t++)
    for (int j = 0; j < K; j++) {
      const int e = route_ids_[t * K + j];
      moe_rows_[fill[e]] = t;
      moe_w_[fill[e]] = route_w_[t * K + j];
      fill[e]++;
    }
  std::vector<const ExpertWeights*> ew(used.size());
  std::vector<MoeGroup> groups(used.size());
  // The shared expert's down projection does not depend on the routed experts: the backend runs it
  // with the last batch's (CPU: in the gate/up pass, one parallel region fewer per layer).
  bool shared_done = S == 0;
  if (S > 0) b_.swiglu(shared_g_, shared_u_, n, S, shared_g_);
  // A budgeted expert cache may hold fewer experts than the chunk chose: run them in batches,
  // half the cache each, so the next batch is read while this one computes. Each batch
  // accumulates into h_ in expert order, so the sum is the same as in one batch.
  const size_t room = static_cast<size_t>(std::max(1, experts_.max_acquire()));
  const size_t batch = used.size() <= room ? room : std::max<size_t>(1, room / 2);
  for (size_t g0 = 0; g0 < used.size(); g0 += batch) {
    const int m = static_cast<int>(std::min(batch, used.size() - g0));
    experts_.acquire(layer, used.data() + g0, m, ew.data() + g0);
    try {
      const size_t next = g0 + m;
      if (next < used.size())
        experts_.prefetch(layer, used.data() + next, static_cast<int>(std::min(batch, used.size() - next)));
      else
        prefetch_next_layer(layer, n);
      for (size_t g = g0; g < g0 + m; g++) {
        groups[g].expert = ew[g];
        groups[g].n_rows = count[used[g]];
        groups[g].rows = moe_rows_ + start[used[g]];
        groups[g].weights = moe_w_ + start[used[g]];
      }
      // INT4 experts go to the backend's grouped kernel; BF16 ones (unquantized checkpoints) run
      // after it through plain BF16 matmuls. Both accumulate straight into the residual stream.
      MoeGroup* batch_groups = groups.data() + g0;
      const MoeGroup* bf16_first =
          std::stable_partition(batch_groups, batch_groups + m, [](const MoeGroup& g) { return !g.expert->bf16; });
      const int n_int4 = static_cast<int>(bf16_first - batch_groups);
      // Not with BF16 experts in the batch: bf16_expert() uses tmp_ as scratch.
      if (n_int4 == m && !shared_done && g0 + m == used.size()) {
        b_.moe_experts_with(xn_, D, c_.moe_intermediate_size, batch_groups, n_int4, h_, shared_g_, n, {L.shared_down, tmp_});
        shared_done = true;
      } else if (n_int4 > 0) {
        b_.moe_experts(xn_, D, c_.moe_intermediate_size, batch_groups, n_int4, h_);
      }
      for (int g = n_int4; g < m; g++) bf16_expert(batch_groups[g], n);
      if (g0 + m < used.size()) b_.sync();  // the next batch reuses the cache's slots
    } catch (...) {
      // Safe without waiting: the next forward pass syncs before it acquires any expert.
      experts_.release(layer);
      throw;
    }
    if (g0 + m < used.size())
      experts_.release(layer);
    else
      pending_release_ = layer;  // the last batch: released after the next sync
  }
  if (S > 0) {
    if (!shared_done) b_.matmul_bf16(shared_g_, n, L.shared_down, tmp_);
    b_.add(h_, tmp_, static_cast<size_t>(n) * D);
  }
}

void K2Model::bf16_expert(const MoeGroup& g, int n) {
  const int D = c_.hidden_size, I = c_.moe_intermediate_size, r = g.n_rows;
  const ExpertWeights& e = *g.expert;
  if (!moe_x_ || r > n) throw std::logic_error("bf16_expert: no gather buffer or more rows than the chunk");
  // The previous ops (router: synced; the last expert: synced below) are done with moe_x_ and h_.
  for (int j = 0; j < r; j++) std::memcpy(moe_x_ + static_cast<size_t>(j) * D, xn_ + static_cast<size_t>(g.rows[j]) * D, sizeof(float) * D);
  b_.matmul_bf16(moe_x_, r, e.gate_bf16, ffn_g_);
  b_.matmul_bf16(moe_x_, r, e.up_bf16, ffn_u_);
  b_.swiglu(ffn_g_, ffn_u_, r, I, ffn_g_);
  b_.matmul_bf16(ffn_g_, r, e.down_bf16, tmp_);
  b_.sync();
  for (int j = 0; j < r; j++) {
    float* h = h_ + static_cast<size_t>(g.rows[j]) * D;
    const float* y = tmp_ + static_cast<size_t>(j) * D;
    const float w = g.weights[j];
    for (int i = 0; i < D; i++) h[i] += w * y[i];
  }
}

void K2Model::prefetch_next_layer(int layer, int n) {
  if (!experts_.wants_prefetch()) return;
  int next = layer + 1;
  while (next < c_.num_hidden_layers && !w_.layers[next].moe) next++;
  if (next >= c_.num_hidden_layers) return;
  // The next layer's router on this layer's FFN input: the residual stream changes little from
  // one layer to the next, so this guesses most of the experts the next layer will choose.
  const int E = c_.n_routed_experts, K = c_.num_experts_per_tok;
  route(w_.layers[next], n, pf_logits_, pf_ids_, pf_w_);
  std::vector<char> seen(E, 0);
  std::vector<int32_t> ids;
  for (int i = 0; i < n * K; i++)
    if (!seen[pf_ids_[i]]) {
      seen[pf_ids_[i]] = 1;
      ids.push_back(pf_ids_[i]);
    }
  experts_.prefetch(next, ids.data(), static_cast<int>(ids.size()));
}

}  // namespace k2
