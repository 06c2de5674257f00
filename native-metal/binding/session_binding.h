#pragma once

#include <napi.h>

#include <memory>
#include <vector>

#include "binding/engine_core.h"
#include "runtime/expert_telemetry.h"

namespace k2 {

class NativeEngineWrap : public Napi::ObjectWrap<NativeEngineWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit NativeEngineWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value CreateSession(const Napi::CallbackInfo& info);
  Napi::Value ExpertStats(const Napi::CallbackInfo& info);
  void Dispose(const Napi::CallbackInfo& info);
  std::shared_ptr<EngineCore> core_;
};

class NativeSessionWrap : public Napi::ObjectWrap<NativeSessionWrap> {
 public:
  // Defines the class in this JS environment (the main thread or a worker thread) and keeps it
  // there as the addon's instance data, so that each environment makes sessions of its own class.
  static Napi::Function Init(Napi::Env env);
  static Napi::Object NewInstance(Napi::Env env);
  explicit NativeSessionWrap(const Napi::CallbackInfo& info);
  void Attach(std::shared_ptr<SessionCore> s) { s_ = std::move(s); }

 private:
  SessionCore& session(const Napi::Env& env);
  Napi::Value Tokens(const Napi::CallbackInfo& info);
  Napi::Value Truncate(const Napi::CallbackInfo& info);
  Napi::Value KvBytes(const Napi::CallbackInfo& info);
  Napi::Value Prefill(const Napi::CallbackInfo& info);
  Napi::Value Routes(const Napi::CallbackInfo& info);
  Napi::Value Generate(const Napi::CallbackInfo& info);
  void Dispose(const Napi::CallbackInfo& info);
  std::shared_ptr<SessionCore> s_;
};

// ids from an Int32Array or number[]; TypeError naming `what` otherwise.
std::vector<int32_t> read_ids(const Napi::Value& v, const char* what);

// { hits, misses, bytesRead, readSeconds, stallMs, prefetchIssued, prefetchUsed, residentBytes, capacityBytes }
Napi::Object expert_totals_object(Napi::Env env, const ExpertTotals& t);

// generate_job.cpp: starts a native generation thread; returns { cancel() }.
Napi::Value start_generation(const Napi::CallbackInfo& info, std::shared_ptr<SessionCore> session);

}  // namespace k2
