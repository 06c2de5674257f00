#include "model/expert_layout_builder.h"

#include <stdexcept>
#include <string>

namespace k2 {

ExpertLayout build_expert_layout(const LoadPlan& plan) {
  const ModelConfig& c = plan.config;
  ExpertLayout out;
  out.files = plan.files;
  out.n_layers = c.num_hidden_layers;
  out.n_experts = c.n_routed_experts;
  out.dim = c.hidden_size;
  out.inter = c.moe_intermediate_size;
  out.top_k = c.num_experts_per_tok;
  out.locs.resize(static_cast<size_t>(out.n_layers) * out.n_experts);
  const uint64_t D = c.hidden_size, I = c.moe_intermediate_size;
  // bytes of packed int4 weights and of bf16 group-32 scales, for [rows, cols]
  auto packed = [](uint64_t rows, uint64_t cols) { return rows * (cols / 8) * 4; };
  auto scales = [](uint64_t rows, uint64_t cols) { return rows * (cols / 32) * 2; };
  const char* proj[3] = {"gate_proj", "up_proj", "down_proj"};
  const uint64_t rows[3] = {I, I, D}, cols[3] = {D, D, I};
  for (int l = 0; l < out.n_layers; l++) {
    if (!c.is_moe_layer(l)) continue;
    for (int e = 0; e < out.n_experts; e++) {
      auto& locs = out.locs[out.key(l, e)];
      const std::string p = "model.layers." + std::to_string(l) + ".mlp.experts." + std::to_string(e) + ".";
      for (int m = 0; m < 3; m++) {
        for (int s = 0; s < 2; s++) {
          const std::string name = p + proj[m] + (s == 0 ? ".weight_packed" : ".weight_scale");
          auto it = plan.tensors.find(name);
          if (it == plan.tensors.end() && plan.tensors.count(p + proj[m] + ".weight"))
            throw std::runtime_error("expert layout: routed experts are BF16 (" + p + proj[m] +
                                     ".weight); the expert cache streams INT4 experts only, so BF16 experts need a --memory-budget that maps them all");
          if (it == plan.tensors.end()) throw std::runtime_error("expert layout: tensor " + name + " is missing from the load plan");
          const uint64_t want = s == 0 ? packed(rows[m], cols[m]) : scales(rows[m], cols[m]);
          if (it->second.nbytes != want)
            throw std::runtime_error("expert layout: tensor " + name + " has " + std::to_string(it->second.nbytes) + " bytes, expected " +
                                     std::to_string(want));
          ExpertTensorLoc& t = locs[m * 2 + s];
          t.file = it->second.file;
          t.offset = it->second.offset;
          t.nbytes = it->second.nbytes;
        }
      }
    }
  }
  return out;
}

}  // namespace k2
