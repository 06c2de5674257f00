#include "binding/engine_core.h"

#include "backend/backend_factory.h"
#include "model/expert_layout_builder.h"

namespace k2 {

EngineCore::EngineCore(const LoadPlan& plan) {
  validate_config(plan.config);
  // First: a trace file that cannot be created fails the load before anything is mapped.
  if (!plan.record_routes.empty()) route_recorder = std::make_unique<RouteRecorder>(plan.record_routes, plan.config);
  backend = make_backend(plan.backend, plan.threads, plan.cpu_mode);
  weights = std::make_unique<Weights>(plan, *backend);
  if (plan.expert_cache_bytes > 0) {
    ExpertCacheOptions o;
    o.capacity_bytes = plan.expert_cache_bytes;
    o.io = parse_expert_io_mode(plan.expert_io);
    o.policy = parse_eviction_policy(plan.expert_policy);
    o.prefetch = plan.expert_prefetch;
    o.io_threads = plan.expert_io_threads;
    auto cache = std::make_unique<ExpertCache>(build_expert_layout(plan), *backend, o);
    expert_cache = cache.get();
    weights->drop_resident_pages();
    experts = std::move(cache);
  } else {
    experts = std::make_unique<MappedExpertProvider>(*weights);
  }
  model = std::make_unique<K2Model>(plan.config, *weights, *backend, *experts);
  cpu_mode = plan.cpu_mode == CpuMode::fast ? "fast" : "exact";
  threads = plan.threads;
}

EngineCore::~EngineCore() {
  // The model's scratch and the weights' registrations belong to the backend: release them first.
  model.reset();
  experts.reset();
  weights.reset();
  backend.reset();
}

SessionCore::SessionCore(std::shared_ptr<EngineCore> e, int capacity) : engine(std::move(e)) {
  cache = engine->model->new_cache(capacity);
}

SessionCore::~SessionCore() { cache.reset(); }

void SessionCore::forward(const int32_t* ids, int n, LogitsMode mode, std::vector<float>* logits, bool record_routes) {
  std::lock_guard<std::mutex> run(engine->run_mu);
  std::vector<std::vector<int32_t>> r;
  try {
    engine->model->forward(ids, n, *cache, mode, logits, record_routes || engine->route_recorder ? &r : nullptr);
  } catch (...) {
    // A failed pass may have advanced some chunks; drop everything past the last whole state.
    std::lock_guard<std::mutex> lock(mu);
    cache->truncate(static_cast<int>(tokens.size()));
    throw;
  }
  std::lock_guard<std::mutex> lock(mu);
  tokens.insert(tokens.end(), ids, ids + n);
  if (engine->route_recorder) engine->route_recorder->append(r, n);
  if (record_routes) routes = std::move(r);
}

}  // namespace k2
