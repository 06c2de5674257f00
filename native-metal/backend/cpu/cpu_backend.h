// The portable backend: every op of backend.h on the host CPU, multithreaded with a persistent
// pool, SIMD kernels chosen at run time (cpu_kernels.h). Ops run to completion, so sync() is free.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/cpu_kernels.h"
#include "runtime/thread_pool.h"

namespace k2 {

class CpuBackend : public Backend {
 public:
  CpuBackend(int threads, CpuMode mode);
  // With one ISA tier's kernels (cpu_kernels_named) instead of the best one: tests compare tiers.
  CpuBackend(int threads, CpuMode mode, const CpuKernels& kernels);
  ~CpuBackend() override;
  std::string name() const override;
  CpuMode mode() const { return mode_; }
  int threads() const { return pool_.size(); }
  ThreadPool& pool() { return pool_; }

  void* alloc(size_t bytes) override;
  void free(void* p) override;

  void matmul_bf16(const float* x, int n, const Bf16Matrix& w, float* y) override;
  void matmul_int4(const float* x, int n, const Int4Matrix& w, float* y) override;
  void matmul_bf16_multi(const float* x, int n, const Bf16Product* products, int count) override;
  void embed_bf16(const Bf16Matrix& table, const int32_t* ids, int n, float* out) override;
  void rmsnorm(const float* x, int n, int dim, int stride, const uint16_t* w_bf16, float eps, float* y) override;
  void rope(float* x, int n, int n_heads, int row_stride, int head_stride, int rope_dim, const int32_t* pos,
            const float* inv_freq) override;
  void mla_attention(const MlaAttentionArgs& a) override;
  void router_topk(const RouterArgs& a) override;
  void swiglu(const float* gate, const float* up, int n, int dim, float* out) override;
  void add(float* y, const float* x, size_t n) override;
  void kv_append(const float* kv, int n, int row_stride, int kv_lora, int rope_dim, float* cache_c, float* cache_pe,
                 int start) override;
  void moe_experts(const float* x, int dim, int inter, const MoeGroup* groups, int n_groups, float* out) override;
  void moe_experts_with(const float* x, int dim, int inter, const MoeGroup* groups, int n_groups, float* out, const float* with_x,
                        int with_n, const Bf16Product& with) override;

 private:
  // moe's down pass for decode-sized groups; false when it does not apply (see the .cpp).
  bool moe_down_by_expert(int dim, int inter, const MoeGroup* groups, int n_groups, int total, float* out, bool fast,
                          const Q16Rows& qh);
  // moe_experts with an optional independent BF16 product run in the gate/up pass.
  void moe(const float* x, int dim, int inter, const MoeGroup* groups, int n_groups, float* out, const float* with_x, int with_n,
           const Bf16Product* with);
  // The scratch int16 buffer `slot` sized for rows × cols under this backend's kernel set.
  Q16Rows q16_buffer(int rows, int cols, int slot);
  // Quantizes n rows of x (cols wide) into the scratch int16 buffer `slot` and returns its view.
  Q16Rows quantize(const float* x, int n, int cols, int slot);
  // Quantizes the rows of the MoE groups that will use the int16 kernels (offset = first row of each group).
  // share_rows (optional, n_groups entries): when x holds each group's gathered token rows, a
  // one-row group whose token an earlier one-row group already quantized reuses that row; its
  // index goes to share_rows[g] (else offset[g]).
  Q16Rows quantize_groups(const float* x, int cols, const MoeGroup* groups, const int* offset, int n_groups, int slot,
                          int* share_rows = nullptr);
  // Runs fn(r0, r1) over [0, rows) split across the pool in whole 16-row panels, in chunks sized
  // for token_rows activation rows (few: long streaming runs; many: fine-grained balance).
  void for_panels(int rows, int token_rows, const std::function<void(int, int)>& fn);
  // Whether n token rows are enough for the panel-packed INT4 GEMM to beat the row kernels.
  bool int4_gemm_pays(int n) const;
  // router_topk for tokens [t0, t1).
  void route_tokens(const RouterArgs& a, int t0, int t1);
  // MLA attention's steps (cpu_mla_attention.cpp): W_uk absorbed into head h of token t's query;
  // cache rows [c0, c1) for all heads of one query (online softmax state st, Σp·c in o); the W_uv
  // projection of head h's normalised latent output.
  using MlaHeadState = SoftmaxState;
  void mla_absorb(const MlaAttentionArgs& a, int t, int h, float* q_lat);
  // Token t's heads [h0, h1) over its whole context: absorb, attend, normalise, project.
  void mla_token_heads(const MlaAttentionArgs& a, int t, int h0, int h1);
  void mla_attend_rows(const MlaAttentionArgs& a, const float* q_lat, const float* q, int c0, int c1, MlaHeadState* st, float* o);
  void mla_project(const MlaAttentionArgs& a, int t, int h, const float* o_lat);

  ThreadPool pool_;
  CpuMode mode_;
  const CpuKernels& k_;
  struct Q16Buffer {
    std::vector<int16_t> qs;
    std::vector<float> d, dsum8;
  };
  Q16Buffer q16_[2];
  std::vector<float> moe_x_, moe_h_, moe_u_;
  // moe_down_by_expert's down products, one row per group row (as moe_h_).
  std::vector<float> down_y_;
  // Per-call bookkeeping kept between calls: decode runs these ops every layer of every token.
  std::vector<int> moe_offset_, moe_qx_row_;
  std::vector<std::pair<int32_t, int>> q16_done_;
  std::vector<int64_t> multi_first_;
  // Decode attention scratch: absorbed queries [n, H, L]; per (token, part) partial Σp·c
  // [n, parts, H, L] and softmax states [n, parts, H].
  std::vector<float> mla_q_lat_, mla_part_o_;
  std::vector<MlaHeadState> mla_part_st_;
  static constexpr size_t kMapThreshold = 1 << 20;
  std::mutex map_mu_;
  std::unordered_map<void*, std::pair<void*, size_t>> mapped_;  // aligned pointer -> mapping
};

}  // namespace k2
