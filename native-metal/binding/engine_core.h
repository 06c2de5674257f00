// What the JS NativeEngine / NativeSession objects own. Kept in shared_ptrs so that a generation
// thread or async worker keeps its engine and cache alive even if JS disposes them mid-flight.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "model/k2_model.h"
#include "model/load_plan.h"
#include "model/mapped_expert_provider.h"
#include "runtime/expert_cache.h"
#include "binding/route_recorder.h"
#include "model/weights.h"
#include "runtime/kv_cache.h"

namespace k2 {

struct EngineCore {
  explicit EngineCore(const LoadPlan& plan);
  ~EngineCore();
  std::unique_ptr<Backend> backend;
  std::unique_ptr<Weights> weights;
  std::unique_ptr<ExpertProvider> experts;
  ExpertCache* expert_cache = nullptr;  // experts, when a budget keeps them on disk
  std::unique_ptr<RouteRecorder> route_recorder;  // --record-routes
  std::unique_ptr<K2Model> model;
  // One forward pass at a time: the model's scratch buffers are shared by all sessions.
  std::mutex run_mu;
  std::string cpu_mode;
  int threads = 0;
};

struct SessionCore {
  SessionCore(std::shared_ptr<EngineCore> e, int capacity);
  ~SessionCore();
  std::shared_ptr<EngineCore> engine;
  std::unique_ptr<KvCache> cache;
  // Tokens whose K/V the cache holds, in order (cache->length() == tokens.size()).
  std::vector<int32_t> tokens;
  std::vector<std::vector<int32_t>> routes;  // of the last prefill that asked for them
  std::mutex mu;                             // guards tokens / routes against JS reads
  std::atomic<bool> busy{false};

  // Runs the model on ids appended after the cached tokens; keeps tokens and cache in step.
  void forward(const int32_t* ids, int n, LogitsMode mode, std::vector<float>* logits, bool record_routes);
};

}  // namespace k2
