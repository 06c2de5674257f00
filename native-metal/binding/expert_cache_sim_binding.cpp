// JS entry points of the eviction policies and the cache simulator:
//   runEvictionPolicy(policy, nKeys, ops, params?) -> victims   (unit tests drive a policy step by step)
// ops are strings: "access K" | "insert K" | "evict K" | "token" | "pin K" | "unpin K" |
// "victim" | "victim !K1,K2" (those keys refused as in use). The result holds, per "victim" op,
// the chosen key or null.
#include <napi.h>

#include <sstream>
#include <string>
#include <unordered_set>

#include "runtime/expert_cache_policy.h"

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

}  // namespace

void register_expert_cache_sim(Napi::Env env, Napi::Object exports) {
  exports.Set("runEvictionPolicy", Napi::Function::New(env, RunEvictionPolicy, "runEvictionPolicy"));
}

}  // namespace k2
