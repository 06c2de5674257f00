// The Metal backend above the device line: maps every op of backend.h to kernels of shaders/
// (which kernel, buffers, grid, threadgroup size, order). The same code drives the real GPU
// (metal/) and the CPU harness (metal_emu/), so K2_BACKEND=metal-emu exercises exactly the
// dispatch decisions the Mac makes.
#pragma once

#include <memory>

#include "backend/backend.h"
#include "backend/metal_dispatch/metal_device.h"

namespace k2 {

class MetalDispatchBackend : public Backend {
 public:
  explicit MetalDispatchBackend(std::unique_ptr<MetalDevice> device);
  ~MetalDispatchBackend() override;
  std::string name() const override;

  void* alloc(size_t bytes) override;
  void free(void* p) override;
  void register_host_memory(const void* base, size_t bytes) override;
  void unregister_host_memory(const void* base) override;
  void sync() override;
  uint64_t waits() const override { return waits_; }

  void matmul_bf16(const float* x, int n, const Bf16Matrix& w, float* y) override;
  void matmul_int4(const float* x, int n, const Int4Matrix& w, float* y) override;
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

  // Token rows from which the tiled simdgroup_matrix kernels replace the matvec kernels.
  static constexpr int kTiledMinRows = 8;

 private:
  template <typename Args>
  void launch(const char* kernel, const Args& args, std::initializer_list<const void*> buffers, uint32_t gx, uint32_t gy,
              int threads);
  std::unique_ptr<MetalDevice> dev_;
  // Scratch of moe_experts for every routed row of the call: gate/up output (matvec path), and
  // gathered rows, up output and down output (tiled path). Grown, never shrunk.
  float* moe_scratch_ = nullptr;
  size_t moe_scratch_floats_ = 0;
  bool issued_ = false;  // launches since the last sync
  uint64_t waits_ = 0;
};

}  // namespace k2
