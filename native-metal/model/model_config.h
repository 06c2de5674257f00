// config.json values the forward pass needs, plus what follows from them (YaRN inverse
// frequencies, the mscale-corrected softmax scale).
#pragma once

#include <vector>

namespace k2 {

struct RopeScaling {
  bool yarn = false;
  double factor = 1;
  double original_max_position_embeddings = 4096;
  double beta_fast = 32;
  double beta_slow = 1;
  double mscale = 1;
  double mscale_all_dim = 0;
};

struct ModelConfig {
  int hidden_size = 0;
  int num_hidden_layers = 0;
  int first_k_dense_replace = 0;
  int moe_layer_freq = 1;
  int num_attention_heads = 0;
  int q_lora_rank = 0;
  int kv_lora_rank = 0;
  int qk_nope_head_dim = 0;
  int qk_rope_head_dim = 0;
  int v_head_dim = 0;
  int intermediate_size = 0;
  int moe_intermediate_size = 0;
  int n_routed_experts = 0;
  int num_experts_per_tok = 0;
  int n_shared_experts = 0;
  int n_group = 1;
  int topk_group = 1;
  bool norm_topk_prob = true;
  float routed_scaling_factor = 1;
  float rms_norm_eps = 1e-6f;
  double rope_theta = 10000;
  RopeScaling rope_scaling;
  int vocab_size = 0;
  int max_position_embeddings = 0;

  bool is_moe_layer(int layer) const {
    return n_routed_experts > 0 && layer >= first_k_dense_replace && layer % moe_layer_freq == 0;
  }
};

// Throws std::invalid_argument naming the first field that cannot drive the forward pass.
void validate_config(const ModelConfig& c);
// rope_dim/2 inverse frequencies, YaRN-corrected when rope_scaling says so.
std::vector<float> rope_inv_freq(const ModelConfig& c);
// (nope+rope)^-0.5, times mscale² under YaRN.
float attention_softmax_scale(const ModelConfig& c);

}  // namespace k2
