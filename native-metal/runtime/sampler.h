// Turns a logit row into the next token: penalties over the session's tokens, then greedy or
// temperature sampling restricted by top-k / top-p / min-p, with a seeded reproducible RNG.
#pragma once

#include <cstdint>
#include <vector>

namespace k2 {

struct SamplerParams {
  float temperature = 1.0f;  // 0 = greedy
  float top_p = 1.0f;
  int top_k = 0;             // 0 = off
  float min_p = 0.0f;        // 0 = off
  float repetition_penalty = 1.0f;
  float presence_penalty = 0.0f;
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(const SamplerParams& p);
  // `logits` is modified (penalties, temperature). history = tokens the penalties look at.
  int sample(float* logits, int vocab, const std::vector<int32_t>& history);

 private:
  double next_uniform();
  SamplerParams p_;
  uint64_t state_[2];
  std::vector<int> idx_;
  std::vector<float> probs_;
  std::vector<uint8_t> seen_;
};

}  // namespace k2
