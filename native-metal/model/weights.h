// The checkpoint's tensors as views into read-only shared mappings of the shard files. Nothing is
// copied or dequantized: matrices point straight at the bytes the OS pages in on first touch.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "model/load_plan.h"

namespace k2 {

struct LayerWeights {
  const uint16_t* input_norm = nullptr;
  const uint16_t* post_attention_norm = nullptr;
  // MLA
  Bf16Matrix q_a, q_b, q_proj;  // q_proj only when q_lora_rank == 0
  const uint16_t* q_a_norm = nullptr;
  Bf16Matrix kv_a, kv_b, o_proj;
  const uint16_t* kv_a_norm = nullptr;
  // FFN
  bool moe = false;
  Bf16Matrix gate, up, down;           // dense layers
  Bf16Matrix router;                   // [E, D]
  const float* router_bias = nullptr;  // [E] e_score_correction_bias (may be absent)
  Bf16Matrix shared_gate, shared_up, shared_down;
  std::vector<ExpertWeights> experts;  // views of every routed expert
};

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

class Weights {
 public:
  // Maps every shard and builds the views; registers the mappings with the backend.
  // Throws std::runtime_error naming the tensor or file at fault.
  Weights(const LoadPlan& plan, Backend& backend);
  ~Weights();

  Bf16Matrix embed, lm_head;
  const uint16_t* final_norm = nullptr;
  std::vector<LayerWeights> layers;

  uint64_t mapped_bytes() const;
  // Unmaps every resident page of the shards from this process (they fault back in from the page
  // cache on next use). With an expert cache, loading touched a page of every expert's shape
  // tensor and the kernel mapped the pages around it: those must not count against the budget.
  void drop_resident_pages() const;

 private:
  const uint8_t* tensor(const LoadPlan& plan, const std::string& name, DType dtype, std::vector<int64_t> shape,
                        bool optional = false);
  Bf16Matrix bf16(const LoadPlan& plan, const std::string& name, int rows, int cols);
  const uint16_t* bf16_vec(const LoadPlan& plan, const std::string& name, int n);
  Int4Matrix int4(const LoadPlan& plan, const std::string& prefix, int rows, int cols);

  Backend& backend_;
  std::vector<std::unique_ptr<MappedFile>> files_;
};

}  // namespace k2
