#include "model/mapped_expert_provider.h"

#include <stdexcept>
#include <string>

namespace k2 {

namespace {
uint64_t int4_bytes(const Int4Matrix& m) {
  return static_cast<uint64_t>(m.rows) * (m.cols / 8) * 4 + static_cast<uint64_t>(m.rows) * (m.cols / 32) * 2;
}
uint64_t bf16_bytes(const Bf16Matrix& m) { return static_cast<uint64_t>(m.rows) * m.cols * 2; }
uint64_t expert_bytes(const ExpertWeights& e) {
  if (e.bf16) return bf16_bytes(e.gate_bf16) + bf16_bytes(e.up_bf16) + bf16_bytes(e.down_bf16);
  return int4_bytes(e.gate) + int4_bytes(e.up) + int4_bytes(e.down);
}
}  // namespace

MappedExpertProvider::MappedExpertProvider(const Weights& w) : w_(w) {
  stats_.layers.resize(w.layers.size());
  for (const LayerWeights& L : w.layers)
    for (const ExpertWeights& e : L.experts) {
      const uint64_t b = expert_bytes(e);
      stats_.resident_bytes += b;
      if (!expert_bytes_) expert_bytes_ = b;
    }
  stats_.capacity_bytes = stats_.resident_bytes;
}

void MappedExpertProvider::acquire(int layer, const int32_t* ids, int n, const ExpertWeights** out) {
  if (layer < 0 || layer >= static_cast<int>(w_.layers.size()) || w_.layers[layer].experts.empty())
    throw std::out_of_range("expert provider: layer " + std::to_string(layer) + " has no routed experts");
  const auto& experts = w_.layers[layer].experts;
  for (int i = 0; i < n; i++) {
    if (ids[i] < 0 || ids[i] >= static_cast<int>(experts.size()))
      throw std::out_of_range("expert provider: expert " + std::to_string(ids[i]) + " of layer " + std::to_string(layer));
    out[i] = &experts[ids[i]];
  }
  std::lock_guard<std::mutex> lock(mu_);
  stats_.layers[layer].hits += n;
}

ExpertStats MappedExpertProvider::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace k2
