#include "binding/session_binding.h"

#include <stdexcept>
#include <string>

#include "binding/plan_parse.h"

namespace k2 {

namespace {
// What the addon keeps per JS environment (napi instance data, freed when the environment ends).
// A process-wide static holds the class of whichever environment loaded the addon last: once that
// one (a worker thread) ends, the others make sessions through a dead reference, which V8 aborts on.
struct AddonInstanceData {
  Napi::FunctionReference session_class;
};
}  // namespace

// ---------------------------------------------------------------------------------------------
// NativeEngine

Napi::Function NativeEngineWrap::Init(Napi::Env env) {
  return DefineClass(env, "NativeEngine",
                     {InstanceMethod("info", &NativeEngineWrap::Info), InstanceMethod("createSession", &NativeEngineWrap::CreateSession),
                      InstanceMethod("expertStats", &NativeEngineWrap::ExpertStats),
                      InstanceMethod("dispose", &NativeEngineWrap::Dispose)});
}

NativeEngineWrap::NativeEngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeEngineWrap>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "NativeEngine(plan): plan object required");
  LoadPlan plan = parse_load_plan(info[0].As<Napi::Object>());
  try {
    core_ = std::make_shared<EngineCore>(plan);
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string("engine load failed: ") + e.what());
  }
}

Napi::Value NativeEngineWrap::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!core_) throw Napi::Error::New(env, "engine disposed");
  Napi::Object o = Napi::Object::New(env);
  o.Set("backend", core_->backend->name());
  o.Set("cpuMode", core_->cpu_mode);
  o.Set("mappedBytes", static_cast<double>(core_->weights->mapped_bytes()));
  o.Set("deviceWaits", static_cast<double>(core_->backend->waits()));
  if (ExpertCache* c = core_->expert_cache) {
    Napi::Object x = Napi::Object::New(env);
    x.Set("slots", c->slots());
    x.Set("slotBytes", static_cast<double>(c->slot_bytes()));
    x.Set("directIo", c->direct_io());
    o.Set("expertCache", x);
  }
  return o;
}

Napi::Value NativeEngineWrap::ExpertStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!core_) throw Napi::Error::New(env, "engine disposed");
  return expert_totals_object(env, expert_totals(core_->experts->stats()));
}

Napi::Object expert_totals_object(Napi::Env env, const ExpertTotals& t) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("hits", static_cast<double>(t.hits));
  o.Set("misses", static_cast<double>(t.misses));
  o.Set("bytesRead", static_cast<double>(t.bytes_read));
  o.Set("readSeconds", t.read_seconds);
  o.Set("stallMs", t.stall_ms);
  o.Set("prefetchIssued", static_cast<double>(t.prefetch_issued));
  o.Set("prefetchUsed", static_cast<double>(t.prefetch_used));
  o.Set("residentBytes", static_cast<double>(t.resident_bytes));
  o.Set("capacityBytes", static_cast<double>(t.capacity_bytes));
  return o;
}

Napi::Value NativeEngineWrap::CreateSession(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!core_) throw Napi::Error::New(env, "engine disposed");
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "createSession(capacity): capacity in tokens required");
  const int capacity = info[0].As<Napi::Number>().Int32Value();
  std::shared_ptr<SessionCore> s;
  try {
    s = std::make_shared<SessionCore>(core_, capacity);
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string("cannot create session: ") + e.what());
  }
  Napi::Object obj = NativeSessionWrap::NewInstance(env);
  NativeSessionWrap::Unwrap(obj)->Attach(std::move(s));
  return obj;
}

void NativeEngineWrap::Dispose(const Napi::CallbackInfo&) { core_.reset(); }

// ---------------------------------------------------------------------------------------------
// NativeSession

Napi::Function NativeSessionWrap::Init(Napi::Env env) {
  Napi::Function f = DefineClass(env, "NativeSession",
                                 {InstanceMethod("tokens", &NativeSessionWrap::Tokens), InstanceMethod("truncate", &NativeSessionWrap::Truncate),
                                  InstanceMethod("kvBytes", &NativeSessionWrap::KvBytes), InstanceMethod("prefill", &NativeSessionWrap::Prefill),
                                  InstanceMethod("routes", &NativeSessionWrap::Routes), InstanceMethod("generate", &NativeSessionWrap::Generate),
                                  InstanceMethod("dispose", &NativeSessionWrap::Dispose)});
  env.SetInstanceData<AddonInstanceData>(new AddonInstanceData{Napi::Persistent(f)});
  return f;
}

Napi::Object NativeSessionWrap::NewInstance(Napi::Env env) {
  AddonInstanceData* data = env.GetInstanceData<AddonInstanceData>();
  if (!data) throw Napi::Error::New(env, "NativeSession is not initialised in this environment");
  return data->session_class.New({});
}

NativeSessionWrap::NativeSessionWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeSessionWrap>(info) {}

SessionCore& NativeSessionWrap::session(const Napi::Env& env) {
  if (!s_) throw Napi::Error::New(env, "session disposed");
  return *s_;
}

Napi::Value NativeSessionWrap::Tokens(const Napi::CallbackInfo& info) {
  SessionCore& s = session(info.Env());
  std::lock_guard<std::mutex> lock(s.mu);
  Napi::Int32Array out = Napi::Int32Array::New(info.Env(), s.tokens.size());
  for (size_t i = 0; i < s.tokens.size(); i++) out[i] = s.tokens[i];
  return out;
}

Napi::Value NativeSessionWrap::Truncate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SessionCore& s = session(env);
  if (s.busy) throw Napi::Error::New(env, "truncate: the session is busy generating");
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "truncate(length): length required");
  const int64_t n = info[0].As<Napi::Number>().Int64Value();
  if (n < 0) throw Napi::RangeError::New(env, "truncate: length must be >= 0");
  std::lock_guard<std::mutex> lock(s.mu);
  if (static_cast<size_t>(n) < s.tokens.size()) {
    s.tokens.resize(n);
    s.cache->truncate(static_cast<int>(n));
  }
  return Napi::Number::New(env, static_cast<double>(s.tokens.size()));
}

Napi::Value NativeSessionWrap::KvBytes(const Napi::CallbackInfo& info) {
  SessionCore& s = session(info.Env());
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("capacityBytes", static_cast<double>(s.cache->bytes()));
  o.Set("usedBytes", static_cast<double>(s.cache->bytes_used()));
  o.Set("capacityTokens", s.cache->capacity());
  return o;
}

std::vector<int32_t> read_ids(const Napi::Value& v, const char* what) {
  Napi::Env env = v.Env();
  std::vector<int32_t> ids;
  if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
    Napi::Int32Array a = v.As<Napi::Int32Array>();
    ids.assign(a.Data(), a.Data() + a.ElementLength());
  } else if (v.IsArray()) {
    Napi::Array a = v.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value x = a.Get(i);
      if (!x.IsNumber()) throw Napi::TypeError::New(env, std::string(what) + ": ids[" + std::to_string(i) + "] is not a number");
      ids.push_back(x.As<Napi::Number>().Int32Value());
    }
  } else {
    throw Napi::TypeError::New(env, std::string(what) + ": ids must be an Int32Array or number[]");
  }
  return ids;
}

namespace {

class PrefillWorker : public Napi::AsyncWorker {
 public:
  PrefillWorker(Napi::Env env, std::shared_ptr<SessionCore> s, std::vector<int32_t> ids, LogitsMode mode, bool routes)
      : Napi::AsyncWorker(env, "k2-prefill"), deferred_(Napi::Promise::Deferred::New(env)), s_(std::move(s)), ids_(std::move(ids)),
        mode_(mode), routes_(routes) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      s_->forward(ids_.data(), static_cast<int>(ids_.size()), mode_, &logits_, routes_);
    } catch (const std::exception& e) {
      SetError(std::string("prefill of ") + std::to_string(ids_.size()) + " tokens failed: " + e.what());
    }
  }
  void OnOK() override {
    s_->busy = false;
    Napi::Env env = Env();
    if (mode_ == LogitsMode::none) {
      deferred_.Resolve(env.Null());
      return;
    }
    Napi::Float32Array out = Napi::Float32Array::New(env, logits_.size());
    std::copy(logits_.begin(), logits_.end(), out.Data());
    deferred_.Resolve(out);
  }
  void OnError(const Napi::Error& e) override {
    s_->busy = false;
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<SessionCore> s_;
  std::vector<int32_t> ids_;
  LogitsMode mode_;
  bool routes_;
  std::vector<float> logits_;
};

}  // namespace

Napi::Value NativeSessionWrap::Prefill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  session(env);
  if (info.Length() < 2) throw Napi::TypeError::New(env, "prefill(ids, logits: 'all'|'last'|'none', recordRoutes?)");
  std::vector<int32_t> ids = read_ids(info[0], "prefill");
  if (ids.empty()) throw Napi::RangeError::New(env, "prefill: no tokens");
  const std::string m = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  LogitsMode mode;
  if (m == "all") mode = LogitsMode::all;
  else if (m == "last") mode = LogitsMode::last;
  else if (m == "none") mode = LogitsMode::none;
  else throw Napi::TypeError::New(env, "prefill: logits mode must be 'all', 'last' or 'none'");
  const bool routes = info.Length() > 2 && info[2].ToBoolean().Value();
  bool expected = false;
  if (!s_->busy.compare_exchange_strong(expected, true)) throw Napi::Error::New(env, "prefill: the session is busy");
  auto* w = new PrefillWorker(env, s_, std::move(ids), mode, routes);
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

Napi::Value NativeSessionWrap::Routes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SessionCore& s = session(env);
  std::lock_guard<std::mutex> lock(s.mu);
  Napi::Array out = Napi::Array::New(env, s.routes.size());
  for (size_t l = 0; l < s.routes.size(); l++) {
    Napi::Int32Array a = Napi::Int32Array::New(env, s.routes[l].size());
    std::copy(s.routes[l].begin(), s.routes[l].end(), a.Data());
    out.Set(static_cast<uint32_t>(l), a);
  }
  return out;
}

Napi::Value NativeSessionWrap::Generate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  session(env);
  return start_generation(info, s_);
}

void NativeSessionWrap::Dispose(const Napi::CallbackInfo&) { s_.reset(); }

}  // namespace k2
