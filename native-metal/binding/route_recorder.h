// --record-routes FILE: appends every token's routed experts per MoE layer to a route trace
// (runtime/route_trace.h) as the engine runs, prefill and decode alike, for `k2 simulate --trace`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/model_config.h"
#include "runtime/route_trace.h"

namespace k2 {

RouteTraceShape route_trace_shape(const ModelConfig& c);

class RouteRecorder {
 public:
  // Creates (truncates) the file and writes the header; throws RouteTraceError naming it.
  RouteRecorder(const std::string& path, const ModelConfig& c);
  // routes: what K2Model::forward filled for n_tokens tokens (index = layer; n_tokens x top_k ids
  // per MoE layer, in token order).
  void append(const std::vector<std::vector<int32_t>>& routes, int n_tokens);

 private:
  RouteTraceWriter writer_;
  std::vector<uint16_t> records_;
};

}  // namespace k2
