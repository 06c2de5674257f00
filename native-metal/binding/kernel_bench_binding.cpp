// benchCpuKernels(reps) -> [{ name, bytes, macs, seconds, cold }]: the CPU kernels' single-thread
// rates (backend/cpu/kernel_bench.h), for bench/cpu_kernels_bench.ts.
#include <napi.h>

#include <exception>

#include "backend/cpu/kernel_bench.h"

namespace k2 {

namespace {

Napi::Value BenchCpuKernels(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber() || (info.Length() > 1 && !info[1].IsString() && !info[1].IsUndefined()))
    throw Napi::TypeError::New(env, "benchCpuKernels(reps, isa?)");
  const std::string isa = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  std::vector<KernelRate> rates;
  try {
    rates = bench_cpu_kernels(info[0].As<Napi::Number>().Int32Value(), isa);
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
  Napi::Array out = Napi::Array::New(env, rates.size());
  for (size_t i = 0; i < rates.size(); i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", rates[i].name);
    o.Set("bytes", rates[i].bytes);
    o.Set("macs", rates[i].macs);
    o.Set("seconds", rates[i].seconds);
    o.Set("cold", rates[i].cold);
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}

}  // namespace

void register_kernel_bench(Napi::Env env, Napi::Object exports) {
  exports.Set("benchCpuKernels", Napi::Function::New(env, BenchCpuKernels, "benchCpuKernels"));
}

}  // namespace k2
