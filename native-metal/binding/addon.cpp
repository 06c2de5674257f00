// Module k2_engine: NativeEngine/NativeSession (session_binding.cpp), runBackendOp
// (backend_ops_binding.cpp), measureMemoryBandwidth and a few facts about the build.
#include <napi.h>

#include "backend/backend_factory.h"
#include "backend/cpu/cpu_kernels.h"
#include "binding/expert_cache_binding.h"
#include "binding/session_binding.h"
#include "runtime/memory_bandwidth.h"

namespace k2 {

Napi::Value RunBackendOp(const Napi::CallbackInfo& info);
void register_expert_cache_sim(Napi::Env env, Napi::Object exports);  // expert_cache_sim_binding.cpp
Napi::Value RunMetalEmuKernel(const Napi::CallbackInfo& info);
Napi::Value SetMetalEmuSchedule(const Napi::CallbackInfo& info);
void register_kernel_bench(Napi::Env env, Napi::Object exports);      // kernel_bench_binding.cpp

namespace {

Napi::Value MeasureMemoryBandwidth(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber())
    throw Napi::TypeError::New(env, "measureMemoryBandwidth(bytes, threads)");
  try {
    return Napi::Number::New(env, measure_memory_bandwidth(static_cast<size_t>(info[0].As<Napi::Number>().Int64Value()),
                                                           info[1].As<Napi::Number>().Int32Value()));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeEngine", NativeEngineWrap::Init(env));
  exports.Set("NativeSession", NativeSessionWrap::Init(env));
  exports.Set("runBackendOp", Napi::Function::New(env, RunBackendOp, "runBackendOp"));
  exports.Set("runMetalEmuKernel", Napi::Function::New(env, RunMetalEmuKernel, "runMetalEmuKernel"));
  exports.Set("setMetalEmuSchedule", Napi::Function::New(env, SetMetalEmuSchedule, "setMetalEmuSchedule"));
  exports.Set("measureMemoryBandwidth", Napi::Function::New(env, MeasureMemoryBandwidth, "measureMemoryBandwidth"));
  register_expert_cache_sim(env, exports);
  register_kernel_bench(env, exports);
  try {
    exports.Set("cpuIsa", Napi::String::New(env, cpu_kernels().isa));
  } catch (const std::exception& e) {
    // A bad K2_CPU_ISA: loading the addon fails with the message instead of aborting the process.
    throw Napi::Error::New(env, e.what());
  }
  {
    int count = 0;
    const char* const* names = cpu_kernel_isas(&count);
    Napi::Array isas = Napi::Array::New(env, count);
    for (int i = 0; i < count; i++) isas.Set(i, Napi::String::New(env, names[i]));
    exports.Set("cpuIsas", isas);
  }
  exports.Set("defaultThreads", Napi::Number::New(env, default_thread_count()));
  register_expert_cache_exports(env, exports);
  return exports;
}

}  // namespace
}  // namespace k2

static Napi::Object InitK2Engine(Napi::Env env, Napi::Object exports) { return k2::Init(env, exports); }

NODE_API_MODULE(k2_engine, InitK2Engine)
