// The DeepSeek-V3 / Kimi K2 forward pass, written once against Backend&. Prefill pushes a chunk
// of tokens through each layer together (the routed experts see every token of the chunk that
// chose them, so each expert's weights are read once per chunk); decode is the same code, n = 1.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "backend/backend.h"
#include "model/load_plan.h"
#include "model/weights.h"
#include "runtime/expert_provider.h"
#include "runtime/kv_cache.h"

namespace k2 {

enum class LogitsMode { none, last, all };

class K2Model {
 public:
  K2Model(const ModelConfig& config, const Weights& weights, Backend& backend, ExpertProvider& experts, int max_chunk = 512);
  ~K2Model();
  K2Model(const K2Model&) = delete;
  K2Model& operator=(const K2Model&) = delete;

  const ModelConfig& config() const { return c_; }
  // Tokens pushed through the layers together; forward() splits longer inputs at these boundaries.
  int max_chunk() const { return max_chunk_; }
  std::unique_ptr<KvCache> new_cache(int capacity);

  // Appends ids[0..n) at positions cache.length().. and advances the cache. Logits go to `logits`
  // (resized): one row per token for `all`, one row for `last`. When routes is non-null it receives,
  // per MoE layer (index = layer), the top_k expert ids each token chose.
  void forward(const int32_t* ids, int n, KvCache& cache, LogitsMode mode, std::vector<float>* logits,
               std::vector<std::vector<int32_t>>* routes = nullptr);

 private:
  void forward_chunk(const int32_t* ids, int n, KvCache& cache, LogitsMode mode, bool last_chunk, std::vector<float>* logits,
                     std::vector<std::vector<int32_t>>* routes);
  void attention(int layer, int n, int start, KvCache& cache);
  void dense_ffn(const LayerWeights& L, int n);
  void moe_ffn(int layer, const LayerWeights& L, int n, std::vector<std::vector<int32_t>>* routes);
  // out rows += weight * BF16 expert(xn_ rows), with matmul_bf16 and swiglu (no expert kernel).
  void bf16_expert(const MoeGroup& g, int n);
  // Runs the next MoE layer's router on this layer's FFN input and hands its choices to
  // ExpertProvider::prefetch (only when the provider reads experts in the background).
  void prefetch_next_layer(int layer, int n);
  // Layer L's router on xn_: top-k expert ids and routing weights per token (synced).
  // Router logits (plus any `with` products of the same activations, in the same pass), top-k,
  // then a sync: the host reads the chosen experts.
  void route(const LayerWeights& L, int n, float* logits, int32_t* ids, float* weights, const Bf16Product* with = nullptr,
             int n_with = 0);
  float* buf(size_t floats);

  ModelConfig c_;
  const Weights& w_;
  Backend& b_;
  ExpertProvider& experts_;
  int max_chunk_;
  // The MoE layer whose experts are still held after their kernels were issued: released after
  // the next sync (the next router's, or the end of the chunk), so a GPU backend need not wait
  // for them at every layer. -1 when none.
  int pending_release_ = -1;
  void release_pending();
  std::vector<float> inv_freq_host_;
  float softmax_scale_;
  std::vector<void*> owned_;
  // Scratch, all from Backend::alloc, sized for max_chunk tokens.
  float *inv_freq_, *h_, *xn_, *qa_, *q_, *kv_, *attn_, *tmp_, *ffn_g_, *ffn_u_, *shared_g_ = nullptr, *shared_u_ = nullptr, *router_logits_, *route_w_, *logit_rows_;
  int32_t *tok_, *pos_, *route_ids_, *moe_rows_;
  float* moe_w_;
  float* moe_x_ = nullptr;  // gathered token rows for BF16 experts (only allocated when there are any)
  float *pf_logits_, *pf_w_;  // next layer's router, for prefetch
  int32_t* pf_ids_;
  size_t logit_rows_cap_ = 0;
};

}  // namespace k2
