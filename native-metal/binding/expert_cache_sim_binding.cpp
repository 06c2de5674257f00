// JS entry points of the eviction policies, route traces and the cache simulator:
//   runEvictionPolicy(policy, nKeys, ops, params?) -> victims   (unit tests drive a policy step by step)
//   simulateExpertCache(source, runs) -> { shape, tokens, runs: [...] }   (k2 simulate)
//   writeRouteTrace(path, source) -> tokens written;  readRouteTrace(path) -> { shape, tokens, ids }
// A source is { trace: path } or { shape, synthetic: { tokens, zipf, reuse, seed } }; a shape is
// { nLayers, moeLayers, nExperts, topK }.
// ops are strings: "access K" | "insert K" | "evict K" | "token" | "pin K" | "unpin K" |
// "victim" | "victim !K1,K2" (those keys refused as in use). The result holds, per "victim" op,
// the chosen key or null.
#include <napi.h>

#include <sstream>
#include <string>
#include <unordered_set>

#include "runtime/expert_cache_policy.h"
#include "runtime/expert_cache_sim.h"
#include "runtime/expert_cache_sim_synthetic.h"
#include "runtime/route_trace.h"

namespace k2 {

namespace {

EvictionPolicyParams policy_params(const Napi::Value& v) {
  EvictionPolicyParams p;
  if (!v.IsObject()) return p;
  const Napi::Object o = v.As<Napi::Object>();
  if (o.Has("halfLife") && o.Get("halfLife").IsNumber()) p.lfu_half_life = o.Get("halfLife").As<Napi::Number>().DoubleValue();
  if (o.Has("window") && o.Get("window").IsNumber()) {
    const int64_t w = o.Get("window").As<Napi::Number>().Int64Value();
    if (w < 0 || w > UINT32_MAX) throw std::invalid_argument("window must be 0.." + std::to_string(UINT32_MAX) + ", got " + std::to_string(w));
    p.mix_window = static_cast<uint32_t>(w);
  }
  if (o.Has("windowShare") && o.Get("windowShare").IsNumber()) p.mix_window_share = o.Get("windowShare").As<Napi::Number>().DoubleValue();
  return p;
}

uint32_t parse_key(const std::string& s, const std::string& op) {
  size_t used = 0;
  unsigned long long k = 0;
  try {
    k = std::stoull(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != s.size() || s.empty() || k > UINT32_MAX) throw std::invalid_argument("bad key \"" + s + "\" in op \"" + op + "\"");
  return static_cast<uint32_t>(k);
}

Napi::Value RunEvictionPolicy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsArray())
    throw Napi::TypeError::New(env, "runEvictionPolicy(policy, nKeys, ops[, params])");
  try {
    const int64_t n = info[1].As<Napi::Number>().Int64Value();
    if (n < 1 || n > UINT32_MAX) throw std::invalid_argument("nKeys must be 1.." + std::to_string(UINT32_MAX));
    auto policy = make_eviction_policy(parse_eviction_policy(info[0].As<Napi::String>().Utf8Value()), static_cast<uint32_t>(n),
                                       policy_params(info.Length() > 3 ? info[3] : env.Undefined()));
    const Napi::Array ops = info[2].As<Napi::Array>();
    Napi::Array out = Napi::Array::New(env);
    for (uint32_t i = 0; i < ops.Length(); i++) {
      const std::string op = ops.Get(i).ToString().Utf8Value();
      std::istringstream in(op);
      std::string verb, arg;
      in >> verb >> arg;
      if (verb == "token") {
        policy->on_token();
      } else if (verb == "victim") {
        std::unordered_set<uint32_t> refused;
        if (!arg.empty()) {
          if (arg[0] != '!') throw std::invalid_argument("op \"" + op + "\": expected victim !K1,K2");
          std::istringstream keys(arg.substr(1));
          for (std::string k; std::getline(keys, k, ',');) refused.insert(parse_key(k, op));
        }
        uint32_t v = 0;
        const bool found = policy->choose_victim([&](uint32_t k) { return !refused.count(k); }, &v);
        out.Set(out.Length(), found ? Napi::Value(Napi::Number::New(env, v)) : env.Null());
      } else {
        const uint32_t k = parse_key(arg, op);
        if (verb == "access") policy->on_access(k);
        else if (verb == "insert") policy->on_insert(k);
        else if (verb == "evict") policy->on_evict(k);
        else if (verb == "pin") policy->set_pinned(k, true);
        else if (verb == "unpin") policy->set_pinned(k, false);
        else throw std::invalid_argument("unknown op \"" + op + "\"");
      }
    }
    return out;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string("runEvictionPolicy: ") + e.what());
  }
}

double num(const Napi::Object& o, const char* k, const std::string& where) {
  if (!o.Has(k) || !o.Get(k).IsNumber()) throw std::invalid_argument(where + "." + k + " must be a number");
  return o.Get(k).As<Napi::Number>().DoubleValue();
}

uint64_t whole(const Napi::Object& o, const char* k, const std::string& where, double max = 9007199254740991.0) {
  const double d = num(o, k, where);
  if (d < 0 || d != static_cast<double>(static_cast<uint64_t>(d)) || d > max)
    throw std::invalid_argument(where + "." + k + " must be a whole number 0.." + std::to_string(static_cast<uint64_t>(max)));
  return static_cast<uint64_t>(d);
}

Napi::Object shape_to_js(Napi::Env env, const RouteTraceShape& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("nLayers", s.n_layers);
  Napi::Array layers = Napi::Array::New(env, s.moe_layers.size());
  for (size_t i = 0; i < s.moe_layers.size(); i++) layers.Set(static_cast<uint32_t>(i), s.moe_layers[i]);
  o.Set("moeLayers", layers);
  o.Set("nExperts", s.n_experts);
  o.Set("topK", s.top_k);
  return o;
}

RouteTraceShape shape_from_js(const Napi::Object& o) {
  RouteTraceShape s;
  s.n_layers = static_cast<uint32_t>(whole(o, "nLayers", "shape", UINT32_MAX));
  s.n_experts = static_cast<uint32_t>(whole(o, "nExperts", "shape", UINT32_MAX));
  s.top_k = static_cast<uint32_t>(whole(o, "topK", "shape", UINT32_MAX));
  if (!o.Has("moeLayers") || !o.Get("moeLayers").IsArray()) throw std::invalid_argument("shape.moeLayers must be an array");
  const Napi::Array a = o.Get("moeLayers").As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) {
    if (!a.Get(i).IsNumber()) throw std::invalid_argument("shape.moeLayers[" + std::to_string(i) + "] must be a number");
    const double d = a.Get(i).As<Napi::Number>().DoubleValue();
    if (d < 0 || d > UINT32_MAX || d != static_cast<double>(static_cast<uint32_t>(d)))
      throw std::invalid_argument("shape.moeLayers[" + std::to_string(i) + "] must be a layer index");
    s.moe_layers.push_back(static_cast<uint32_t>(d));
  }
  validate_route_shape(s);
  return s;
}

RouteTrace trace_from_source(const Napi::Value& v) {
  if (!v.IsObject()) throw std::invalid_argument("source must be { trace } or { shape, synthetic }");
  const Napi::Object o = v.As<Napi::Object>();
  if (o.Has("trace") && o.Get("trace").IsString()) return read_route_trace(o.Get("trace").As<Napi::String>().Utf8Value());
  if (!o.Has("shape") || !o.Get("shape").IsObject() || !o.Has("synthetic") || !o.Get("synthetic").IsObject())
    throw std::invalid_argument("source must be { trace } or { shape, synthetic }");
  const Napi::Object syn = o.Get("synthetic").As<Napi::Object>();
  SyntheticRouting r;
  r.tokens = whole(syn, "tokens", "synthetic");
  r.zipf = num(syn, "zipf", "synthetic");
  r.reuse = num(syn, "reuse", "synthetic");
  r.seed = whole(syn, "seed", "synthetic");
  return synthetic_route_trace(shape_from_js(o.Get("shape").As<Napi::Object>()), r);
}

Napi::Value SimulateExpertCache(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[1].IsArray()) throw Napi::TypeError::New(env, "simulateExpertCache(source, runs)");
  try {
    const RouteTrace trace = trace_from_source(info[0]);
    const Napi::Array runs = info[1].As<Napi::Array>();
    Napi::Array out = Napi::Array::New(env, runs.Length());
    for (uint32_t i = 0; i < runs.Length(); i++) {
      if (!runs.Get(i).IsObject()) throw std::invalid_argument("runs[" + std::to_string(i) + "] must be an object");
      const Napi::Object run = runs.Get(i).As<Napi::Object>();
      const std::string where = "runs[" + std::to_string(i) + "]";
      CacheSimConfig cfg;
      if (!run.Has("policy") || !run.Get("policy").IsString()) throw std::invalid_argument(where + ".policy must be a string");
      cfg.policy = parse_eviction_policy(run.Get("policy").As<Napi::String>().Utf8Value());
      cfg.params = policy_params(run);
      if (run.Has("pinFraction") && !run.Get("pinFraction").IsUndefined()) cfg.pin_fraction = num(run, "pinFraction", where);
      if (run.Has("repinTokens") && !run.Get("repinTokens").IsUndefined())
        cfg.repin_tokens = static_cast<uint32_t>(whole(run, "repinTokens", where, UINT32_MAX));
      cfg.capacity = whole(run, "capacity", where);
      // Default warm-up: the first quarter of the trace.
      cfg.warmup_tokens = run.Has("warmup") && !run.Get("warmup").IsUndefined() ? whole(run, "warmup", where) : trace.tokens() / 4;
      const CacheSimResult r = simulate_expert_cache(trace, cfg);
      Napi::Object o = Napi::Object::New(env);
      o.Set("policy", eviction_policy_name(cfg.policy));
      o.Set("capacity", static_cast<double>(r.capacity));
      o.Set("warmup", static_cast<double>(cfg.warmup_tokens));
      o.Set("warmupHits", static_cast<double>(r.warmup_hits));
      o.Set("warmupMisses", static_cast<double>(r.warmup_misses));
      o.Set("hits", static_cast<double>(r.hits));
      o.Set("misses", static_cast<double>(r.misses));
      Napi::Uint32Array per = Napi::Uint32Array::New(env, r.misses_per_token.size());
      std::copy(r.misses_per_token.begin(), r.misses_per_token.end(), per.Data());
      o.Set("missesPerToken", per);
      o.Set("seconds", r.seconds);
      out.Set(i, o);
    }
    Napi::Object res = Napi::Object::New(env);
    res.Set("shape", shape_to_js(env, trace.shape));
    res.Set("tokens", static_cast<double>(trace.tokens()));
    res.Set("runs", out);
    return res;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

Napi::Value WriteRouteTrace(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString()) throw Napi::TypeError::New(env, "writeRouteTrace(path, source)");
  try {
    const RouteTrace trace = trace_from_source(info[1]);
    write_route_trace(info[0].As<Napi::String>().Utf8Value(), trace);
    return Napi::Number::New(env, static_cast<double>(trace.tokens()));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

Napi::Value ReadRouteTrace(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "readRouteTrace(path)");
  try {
    const RouteTrace trace = read_route_trace(info[0].As<Napi::String>().Utf8Value());
    Napi::Object o = Napi::Object::New(env);
    o.Set("shape", shape_to_js(env, trace.shape));
    o.Set("tokens", static_cast<double>(trace.tokens()));
    Napi::Uint16Array ids = Napi::Uint16Array::New(env, trace.ids.size());
    std::copy(trace.ids.begin(), trace.ids.end(), ids.Data());
    o.Set("ids", ids);
    return o;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

}  // namespace

void register_expert_cache_sim(Napi::Env env, Napi::Object exports) {
  exports.Set("runEvictionPolicy", Napi::Function::New(env, RunEvictionPolicy, "runEvictionPolicy"));
  exports.Set("simulateExpertCache", Napi::Function::New(env, SimulateExpertCache, "simulateExpertCache"));
  exports.Set("writeRouteTrace", Napi::Function::New(env, WriteRouteTrace, "writeRouteTrace"));
  exports.Set("readRouteTrace", Napi::Function::New(env, ReadRouteTrace, "readRouteTrace"));
}

}  // namespace k2
