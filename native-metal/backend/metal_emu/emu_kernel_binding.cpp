// runMetalEmuKernel(name, buffers, {grid, threads, schedule}): runs one kernel of the CPU harness
// directly on JS typed arrays (buffer(i) = buffers[i], written back in place), for the harness's
// self-tests and for kernels the backend interface does not reach (argmax_f32).
#include <napi.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "emu/emu_runtime.h"

namespace k2 {

Napi::Value RunMetalEmuKernel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsArray() || !info[2].IsObject())
    throw Napi::TypeError::New(env, "runMetalEmuKernel(name, buffers[], {grid: [x, y, z], threads, schedule?})");
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  const msl_emu::KernelInfo* k = msl_emu::find_kernel(name);
  if (!k) throw Napi::Error::New(env, "runMetalEmuKernel: no kernel named " + name);
  Napi::Array arr = info[1].As<Napi::Array>();
  if (static_cast<int>(arr.Length()) != k->n_buffers)
    throw Napi::RangeError::New(env, "runMetalEmuKernel: " + name + " takes " + std::to_string(k->n_buffers) + " buffers, got " +
                                         std::to_string(arr.Length()));
  Napi::Object o = info[2].As<Napi::Object>();
  msl_emu::Dispatch d;
  d.kernel = k;
  if (!o.Get("threads").IsNumber()) throw Napi::TypeError::New(env, "runMetalEmuKernel: options.threads must be a number");
  d.threads = o.Get("threads").As<Napi::Number>().Int32Value();
  if (o.Get("grid").IsArray()) {
    Napi::Array g = o.Get("grid").As<Napi::Array>();
    for (uint32_t i = 0; i < 3 && i < g.Length(); i++) d.grid[i] = g.Get(i).As<Napi::Number>().Uint32Value();
  }
  if (o.Get("schedule").IsString()) {
    const std::string s = o.Get("schedule").As<Napi::String>().Utf8Value();
    if (s == "reverse") d.schedule = msl_emu::Schedule::reverse;
    else if (s != "forward") throw Napi::TypeError::New(env, "runMetalEmuKernel: schedule must be forward or reverse");
  }
  // Copies into 16-byte-aligned memory, as a Metal buffer would be.
  std::vector<void*> bufs(arr.Length(), nullptr);
  std::vector<Napi::TypedArray> views;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value v = arr.Get(i);
    if (!v.IsTypedArray()) {
      for (void* p : bufs) std::free(p);
      throw Napi::TypeError::New(env, "runMetalEmuKernel: buffers[" + std::to_string(i) + "] is not a typed array");
    }
    Napi::TypedArray t = v.As<Napi::TypedArray>();
    const size_t bytes = t.ByteLength();
    bufs[i] = std::aligned_alloc(16, (bytes + 15) / 16 * 16 + 16);
    std::memcpy(bufs[i], static_cast<uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset(), bytes);
    views.push_back(t);
  }
  d.buffers = bufs.data();
  try {
    msl_emu::run_dispatch(d);
  } catch (const std::exception& e) {
    for (void* p : bufs) std::free(p);
    throw Napi::Error::New(env, e.what());
  }
  for (size_t i = 0; i < views.size(); i++) {
    std::memcpy(static_cast<uint8_t*>(views[i].ArrayBuffer().Data()) + views[i].ByteOffset(), bufs[i], views[i].ByteLength());
    std::free(bufs[i]);
  }
  return env.Undefined();
}

// setMetalEmuSchedule("forward" | "reverse"): thread order of every later metal-emu dispatch.
Napi::Value SetMetalEmuSchedule(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string s = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (s == "forward") msl_emu::set_device_schedule(msl_emu::Schedule::forward);
  else if (s == "reverse") msl_emu::set_device_schedule(msl_emu::Schedule::reverse);
  else throw Napi::TypeError::New(env, "setMetalEmuSchedule(\"forward\" | \"reverse\")");
  return env.Undefined();
}

}  // namespace k2
