// Test and bench entry points of the expert cache: ExpertCacheProbe drives an ExpertCache over a
// load plan's shards directly (no model), so tests can check reads, pinning and the meeting of a
// prefetch and a demand for the same expert; dropFileCache / measureSequentialRead serve the bench.
#include "binding/expert_cache_binding.h"

#include "binding/plan_parse.h"
#include "binding/session_binding.h"
#include "model/expert_layout_builder.h"
#include "backend/backend_factory.h"
#include "runtime/expert_cache.h"
#include "runtime/expert_io_disk.h"

namespace k2 {

namespace {

class ExpertCacheProbe : public Napi::ObjectWrap<ExpertCacheProbe> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "ExpertCacheProbe",
                       {InstanceMethod("acquire", &ExpertCacheProbe::Acquire), InstanceMethod("release", &ExpertCacheProbe::Release),
                        InstanceMethod("prefetch", &ExpertCacheProbe::Prefetch), InstanceMethod("stats", &ExpertCacheProbe::Stats),
                        InstanceMethod("pin", &ExpertCacheProbe::Pin), InstanceMethod("isResident", &ExpertCacheProbe::IsResident),
                        InstanceMethod("isPinned", &ExpertCacheProbe::IsPinned), InstanceMethod("info", &ExpertCacheProbe::Info)});
  }

  // new ExpertCacheProbe(plan, { capacityBytes, io?, policy?, ioDelayMs?, pinFraction? })
  explicit ExpertCacheProbe(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ExpertCacheProbe>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsObject())
      throw Napi::TypeError::New(env, "ExpertCacheProbe(plan, { capacityBytes, io?, policy?, ioDelayMs?, pinFraction? })");
    LoadPlan plan = parse_load_plan(info[0].As<Napi::Object>());
    Napi::Object o = info[1].As<Napi::Object>();
    ExpertCacheOptions opts;
    try {
      opts.capacity_bytes = static_cast<uint64_t>(o.Get("capacityBytes").ToNumber().Int64Value());
      if (o.Has("io") && o.Get("io").IsString()) opts.io = parse_expert_io_mode(o.Get("io").As<Napi::String>());
      if (o.Has("policy") && o.Get("policy").IsString()) opts.policy = parse_eviction_policy(o.Get("policy").As<Napi::String>());
      if (o.Has("ioDelayMs") && o.Get("ioDelayMs").IsNumber()) opts.io_delay_ms = o.Get("ioDelayMs").As<Napi::Number>().Int32Value();
      if (o.Has("pinFraction") && o.Get("pinFraction").IsNumber()) opts.pin_fraction = o.Get("pinFraction").As<Napi::Number>().DoubleValue();
      if (o.Has("repinTokens") && o.Get("repinTokens").IsNumber()) opts.repin_tokens = o.Get("repinTokens").As<Napi::Number>().Int32Value();
      layout_ = build_expert_layout(plan);
      // Only for register_host_memory: the probe runs no ops.
      backend_ = make_backend("cpu", 1, CpuMode::exact);
      cache_ = std::make_unique<ExpertCache>(layout_, *backend_, opts);
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, std::string("expert cache: ") + e.what());
    }
  }

 private:
  ExpertCache& cache(Napi::Env env) {
    if (!cache_) throw Napi::Error::New(env, "expert cache probe: not constructed");
    return *cache_;
  }

  // acquire(layer, ids) -> per expert the six tensors' bytes (copies), in ExpertTensor order.
  Napi::Value Acquire(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int layer = info[0].ToNumber().Int32Value();
    std::vector<int32_t> ids = read_ids(info[1], "acquire");
    std::vector<const ExpertWeights*> out(ids.size());
    try {
      cache(env).acquire(layer, ids.data(), static_cast<int>(ids.size()), out.data());
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
    const uint64_t D = layout_.dim, I = layout_.inter;
    Napi::Array result = Napi::Array::New(env, ids.size());
    for (size_t i = 0; i < ids.size(); i++) {
      const ExpertWeights& w = *out[i];
      const Int4Matrix* m[3] = {&w.gate, &w.up, &w.down};
      const uint64_t rows[3] = {I, I, D}, cols[3] = {D, D, I};
      Napi::Array t = Napi::Array::New(env, kExpertTensors);
      for (int k = 0; k < 3; k++) {
        t.Set(k * 2, Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(m[k]->packed), rows[k] * cols[k] / 2));
        t.Set(k * 2 + 1, Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(m[k]->scales), rows[k] * (cols[k] / 32) * 2));
      }
      result.Set(static_cast<uint32_t>(i), t);
    }
    return result;
  }

  void Release(const Napi::CallbackInfo& info) { cache(info.Env()).release(info[0].ToNumber().Int32Value()); }

  void Prefetch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<int32_t> ids = read_ids(info[1], "prefetch");
    try {
      cache(env).prefetch(info[0].ToNumber().Int32Value(), ids.data(), static_cast<int>(ids.size()));
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) { return expert_totals_object(info.Env(), expert_totals(cache(info.Env()).stats())); }

  Napi::Value Pin(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), cache(info.Env()).pin(info[0].ToNumber().Int32Value(), info[1].ToNumber().Int32Value()));
  }
  Napi::Value IsResident(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), cache(info.Env()).is_resident(info[0].ToNumber().Int32Value(), info[1].ToNumber().Int32Value()));
  }
  Napi::Value IsPinned(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), cache(info.Env()).is_pinned(info[0].ToNumber().Int32Value(), info[1].ToNumber().Int32Value()));
  }
  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("slots", cache(env).slots());
    o.Set("slotBytes", static_cast<double>(cache(env).slot_bytes()));
    o.Set("maxAcquire", cache(env).max_acquire());
    o.Set("directIo", cache(env).direct_io());
    o.Set("expertBytes", static_cast<double>(layout_.expert_bytes()));
    return o;
  }

  std::unique_ptr<Backend> backend_;
  ExpertLayout layout_;
  std::unique_ptr<ExpertCache> cache_;  // after backend_: destroyed first
};

Napi::Value DropFileCache(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "dropFileCache(path)");
  try {
    drop_file_cache(info[0].As<Napi::String>());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
  return env.Undefined();
}

Napi::Value MeasureSequentialRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsNumber())
    throw Napi::TypeError::New(env, "measureSequentialRead(path, maxBytes, threads)");
  try {
    return Napi::Number::New(env, measure_sequential_read(info[0].As<Napi::String>(), static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value()),
                                                          info[2].As<Napi::Number>().Int32Value()));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

}  // namespace

void register_expert_cache_exports(Napi::Env env, Napi::Object exports) {
  exports.Set("ExpertCacheProbe", ExpertCacheProbe::Init(env));
  exports.Set("dropFileCache", Napi::Function::New(env, DropFileCache, "dropFileCache"));
  exports.Set("measureSequentialRead", Napi::Function::New(env, MeasureSequentialRead, "measureSequentialRead"));
}

}  // namespace k2
