#include "binding/route_recorder.h"

#include <stdexcept>

namespace k2 {

RouteTraceShape route_trace_shape(const ModelConfig& c) {
  RouteTraceShape s;
  s.n_layers = static_cast<uint32_t>(c.num_hidden_layers);
  s.n_experts = static_cast<uint32_t>(c.n_routed_experts);
  s.top_k = static_cast<uint32_t>(c.num_experts_per_tok);
  for (int l = 0; l < c.num_hidden_layers; l++)
    if (c.is_moe_layer(l)) s.moe_layers.push_back(static_cast<uint32_t>(l));
  return s;
}

RouteRecorder::RouteRecorder(const std::string& path, const ModelConfig& c) : writer_(path, route_trace_shape(c)) {}

void RouteRecorder::append(const std::vector<std::vector<int32_t>>& routes, int n_tokens) {
  const RouteTraceShape& s = writer_.shape();
  const size_t K = s.top_k;
  records_.resize(static_cast<size_t>(n_tokens) * s.record_ids());
  size_t o = 0;
  for (int t = 0; t < n_tokens; t++)
    for (uint32_t layer : s.moe_layers) {
      if (layer >= routes.size() || routes[layer].size() != static_cast<size_t>(n_tokens) * K)
        throw std::logic_error("route recorder: layer " + std::to_string(layer) + " has no routes for " + std::to_string(n_tokens) + " tokens");
      for (size_t j = 0; j < K; j++) records_[o++] = static_cast<uint16_t>(routes[layer][t * K + j]);
    }
  writer_.append(records_.data(), static_cast<uint64_t>(n_tokens));
}

}  // namespace k2
