// Where each routed expert's bytes live in the shards, so the expert cache can read an expert
// without the mmapped views. Six tensors per expert (packed weights and scales of gate, up, down);
// each is contiguous in its shard, so one read per tensor loads it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace k2 {

struct ExpertTensorLoc {
  int file = -1;  // index into ExpertLayout::files; -1 for keys of dense layers
  uint64_t offset = 0;
  uint64_t nbytes = 0;
};

// Tensor order inside an expert slot.
enum ExpertTensor { GatePacked = 0, GateScales, UpPacked, UpScales, DownPacked, DownScales, kExpertTensors };

struct ExpertLayout {
  std::vector<std::string> files;
  int n_layers = 0;
  int n_experts = 0;  // per MoE layer; key = layer * n_experts + expert
  int dim = 0;        // hidden_size
  int inter = 0;      // moe_intermediate_size
  int top_k = 0;
  std::vector<std::array<ExpertTensorLoc, kExpertTensors>> locs;  // [n_layers * n_experts]

  uint32_t key(int layer, int expert) const { return static_cast<uint32_t>(layer) * n_experts + expert; }
  bool has(int layer) const { return layer >= 0 && layer < n_layers && locs[key(layer, 0)][0].file >= 0; }
  // Bytes of one expert's six tensors (every expert has the same shapes).
  uint64_t expert_bytes() const;
  int moe_layers() const;
};

}  // namespace k2
