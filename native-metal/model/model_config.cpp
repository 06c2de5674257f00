#include "model/model_config.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace k2 {

namespace {
void require(bool ok, const char* field, const std::string& why) {
  if (!ok) throw std::invalid_argument(std::string("config.") + field + ": " + why);
}
}  // namespace

void validate_config(const ModelConfig& c) {
  require(c.hidden_size > 0, "hidden_size", "must be positive");
  require(c.num_hidden_layers > 0, "num_hidden_layers", "must be positive");
  require(c.num_attention_heads > 0, "num_attention_heads", "must be positive");
  require(c.kv_lora_rank > 0, "kv_lora_rank", "must be positive");
  require(c.qk_rope_head_dim > 0 && c.qk_rope_head_dim % 2 == 0, "qk_rope_head_dim", "must be a positive even number");
  require(c.qk_nope_head_dim > 0, "qk_nope_head_dim", "must be positive");
  require(c.v_head_dim > 0, "v_head_dim", "must be positive");
  require(c.vocab_size > 0, "vocab_size", "must be positive");
  require(c.moe_layer_freq > 0, "moe_layer_freq", "must be positive");
  if (c.n_routed_experts > 0) {
    require(c.num_experts_per_tok > 0 && c.num_experts_per_tok <= c.n_routed_experts, "num_experts_per_tok",
            "must be in 1..n_routed_experts");
    require(c.n_group > 0 && c.n_routed_experts % c.n_group == 0, "n_group", "must divide n_routed_experts");
    require(c.topk_group > 0 && c.topk_group <= c.n_group, "topk_group", "must be in 1..n_group");
    require(c.moe_intermediate_size > 0 && c.moe_intermediate_size % 32 == 0, "moe_intermediate_size",
            "must be a positive multiple of 32 (INT4 group size)");
    require(c.hidden_size % 32 == 0, "hidden_size", "must be a multiple of 32 for INT4 experts");
  }
  require(c.rms_norm_eps > 0, "rms_norm_eps", "must be positive");
  require(c.rope_theta > 0, "rope_theta", "must be positive");
}

std::vector<float> rope_inv_freq(const ModelConfig& c) {
  const int d = c.qk_rope_head_dim;
  std::vector<double> freq(d / 2);
  for (int i = 0; i < d / 2; i++) freq[i] = 1.0 / std::pow(c.rope_theta, 2.0 * i / d);
  const RopeScaling& s = c.rope_scaling;
  if (s.yarn && s.factor > 1) {
    auto correction_dim = [&](double rotations) {
      return d * std::log(s.original_max_position_embeddings / (rotations * 2 * M_PI)) / (2 * std::log(c.rope_theta));
    };
    double low = std::floor(correction_dim(s.beta_fast));
    double high = std::ceil(correction_dim(s.beta_slow));
    low = std::max(low, 0.0);
    high = std::min(high, static_cast<double>(d - 1));
    if (high == low) high += 0.001;
    for (int i = 0; i < d / 2; i++) {
      const double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);
      freq[i] = freq[i] / s.factor * ramp + freq[i] * (1 - ramp);
    }
  }
  return std::vector<float>(freq.begin(), freq.end());
}

float attention_softmax_scale(const ModelConfig& c) {
  double scale = 1.0 / std::sqrt(static_cast<double>(c.qk_nope_head_dim + c.qk_rope_head_dim));
  const RopeScaling& s = c.rope_scaling;
  if (s.yarn && s.factor > 1 && s.mscale_all_dim != 0) {
    const double m = 0.1 * s.mscale_all_dim * std::log(s.factor) + 1.0;
    scale *= m * m;
  }
  return static_cast<float>(scale);
}

}  // namespace k2
