#include "binding/plan_parse.h"

#include <cmath>
#include <string>

namespace k2 {

namespace {

Napi::Value field(const Napi::Object& o, const char* name, const std::string& where) {
  if (!o.Has(name)) throw Napi::TypeError::New(o.Env(), "load plan: " + where + "." + name + " is missing");
  return o.Get(name);
}

double number(const Napi::Object& o, const char* name, const std::string& where) {
  Napi::Value v = field(o, name, where);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), "load plan: " + where + "." + name + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) throw Napi::TypeError::New(o.Env(), "load plan: " + where + "." + name + " must be finite");
  return d;
}

int integer(const Napi::Object& o, const char* name, const std::string& where) {
  double d = number(o, name, where);
  if (d != std::floor(d) || d < -2147483648.0 || d > 2147483647.0)
    throw Napi::TypeError::New(o.Env(), "load plan: " + where + "." + name + " must be a 32-bit integer");
  return static_cast<int>(d);
}

uint64_t u64(const Napi::Object& o, const char* name, const std::string& where) {
  double d = number(o, name, where);
  if (d < 0 || d != std::floor(d) || d > 9007199254740991.0)
    throw Napi::TypeError::New(o.Env(), "load plan: " + where + "." + name + " must be a non-negative integer");
  return static_cast<uint64_t>(d);
}

std::string string(const Napi::Object& o, const char* name, const std::string& where) {
  Napi::Value v = field(o, name, where);
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), "load plan: " + where + "." + name + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

Napi::Object object(const Napi::Object& o, const char* name, const std::string& where) {
  Napi::Value v = field(o, name, where);
  if (!v.IsObject()) throw Napi::TypeError::New(o.Env(), "load plan: " + where + "." + name + " must be an object");
  return v.As<Napi::Object>();
}

}  // namespace

LoadPlan parse_load_plan(const Napi::Object& plan) {
  Napi::Env env = plan.Env();
  LoadPlan p;
  Napi::Object c = object(plan, "config", "plan");
  const std::string w = "config";
  ModelConfig& m = p.config;
  m.hidden_size = integer(c, "hidden_size", w);
  m.num_hidden_layers = integer(c, "num_hidden_layers", w);
  m.first_k_dense_replace = integer(c, "first_k_dense_replace", w);
  m.moe_layer_freq = integer(c, "moe_layer_freq", w);
  m.num_attention_heads = integer(c, "num_attention_heads", w);
  m.q_lora_rank = integer(c, "q_lora_rank", w);
  m.kv_lora_rank = integer(c, "kv_lora_rank", w);
  m.qk_nope_head_dim = integer(c, "qk_nope_head_dim", w);
  m.qk_rope_head_dim = integer(c, "qk_rope_head_dim", w);
  m.v_head_dim = integer(c, "v_head_dim", w);
  m.intermediate_size = integer(c, "intermediate_size", w);
  m.moe_intermediate_size = integer(c, "moe_intermediate_size", w);
  m.n_routed_experts = integer(c, "n_routed_experts", w);
  m.num_experts_per_tok = integer(c, "num_experts_per_tok", w);
  m.n_shared_experts = integer(c, "n_shared_experts", w);
  m.n_group = integer(c, "n_group", w);
  m.topk_group = integer(c, "topk_group", w);
  Napi::Value ntp = field(c, "norm_topk_prob", w);
  if (!ntp.IsBoolean()) throw Napi::TypeError::New(env, "load plan: config.norm_topk_prob must be a boolean");
  m.norm_topk_prob = ntp.As<Napi::Boolean>().Value();
  m.routed_scaling_factor = static_cast<float>(number(c, "routed_scaling_factor", w));
  m.rms_norm_eps = static_cast<float>(number(c, "rms_norm_eps", w));
  m.rope_theta = number(c, "rope_theta", w);
  m.vocab_size = integer(c, "vocab_size", w);
  m.max_position_embeddings = integer(c, "max_position_embeddings", w);
  Napi::Value rs = field(c, "rope_scaling", w);
  if (rs.IsObject()) {
    Napi::Object r = rs.As<Napi::Object>();
    const std::string rw = "config.rope_scaling";
    m.rope_scaling.yarn = true;
    m.rope_scaling.factor = number(r, "factor", rw);
    m.rope_scaling.original_max_position_embeddings = number(r, "original_max_position_embeddings", rw);
    m.rope_scaling.beta_fast = number(r, "beta_fast", rw);
    m.rope_scaling.beta_slow = number(r, "beta_slow", rw);
    m.rope_scaling.mscale = number(r, "mscale", rw);
    m.rope_scaling.mscale_all_dim = number(r, "mscale_all_dim", rw);
  } else if (!rs.IsNull() && !rs.IsUndefined()) {
    throw Napi::TypeError::New(env, "load plan: config.rope_scaling must be an object or null");
  }

  Napi::Value files = field(plan, "files", "plan");
  if (!files.IsArray()) throw Napi::TypeError::New(env, "load plan: plan.files must be an array of paths");
  Napi::Array fa = files.As<Napi::Array>();
  for (uint32_t i = 0; i < fa.Length(); i++) {
    Napi::Value v = fa.Get(i);
    if (!v.IsString()) throw Napi::TypeError::New(env, "load plan: plan.files[" + std::to_string(i) + "] must be a string");
    p.files.push_back(v.As<Napi::String>().Utf8Value());
  }

  Napi::Object tensors = object(plan, "tensors", "plan");
  Napi::Array names = tensors.GetPropertyNames();
  for (uint32_t i = 0; i < names.Length(); i++) {
    std::string name = names.Get(i).As<Napi::String>().Utf8Value();
    Napi::Value tv = tensors.Get(name);
    const std::string tw = "tensors[\"" + name + "\"]";
    if (!tv.IsObject()) throw Napi::TypeError::New(env, "load plan: " + tw + " must be an object");
    Napi::Object t = tv.As<Napi::Object>();
    TensorEntry e;
    e.file = integer(t, "file", tw);
    e.offset = u64(t, "offset", tw);
    e.nbytes = u64(t, "nbytes", tw);
    std::string dt = string(t, "dtype", tw);
    if (dt == "BF16") e.dtype = DType::BF16;
    else if (dt == "F32") e.dtype = DType::F32;
    else if (dt == "I32") e.dtype = DType::I32;
    else throw Napi::TypeError::New(env, "load plan: " + tw + ".dtype \"" + dt + "\" is not BF16, F32 or I32");
    Napi::Value sv = field(t, "shape", tw);
    if (!sv.IsArray()) throw Napi::TypeError::New(env, "load plan: " + tw + ".shape must be an array");
    Napi::Array sa = sv.As<Napi::Array>();
    for (uint32_t k = 0; k < sa.Length(); k++) {
      Napi::Value d = sa.Get(k);
      if (!d.IsNumber()) throw Napi::TypeError::New(env, "load plan: " + tw + ".shape must hold numbers");
      e.shape.push_back(d.As<Napi::Number>().Int64Value());
    }
    p.tensors.emplace(std::move(name), std::move(e));
  }

  p.threads = plan.Has("threads") && plan.Get("threads").IsNumber() ? integer(plan, "threads", "plan") : 0;
  p.backend = plan.Has("backend") && plan.Get("backend").IsString() ? string(plan, "backend", "plan") : "cpu";
  std::string mode = plan.Has("cpuMode") && plan.Get("cpuMode").IsString() ? string(plan, "cpuMode", "plan") : "exact";
  if (mode == "exact") p.cpu_mode = CpuMode::exact;
  else if (mode == "fast") p.cpu_mode = CpuMode::fast;
  else throw Napi::TypeError::New(env, "load plan: plan.cpuMode \"" + mode + "\" is not exact or fast");
  p.memory_budget = plan.Has("memoryBudget") && plan.Get("memoryBudget").IsNumber() ? u64(plan, "memoryBudget", "plan") : 0;
  p.expert_cache_bytes = plan.Has("expertCacheBytes") && plan.Get("expertCacheBytes").IsNumber() ? u64(plan, "expertCacheBytes", "plan") : 0;
  if (plan.Has("expertIo") && plan.Get("expertIo").IsString()) p.expert_io = string(plan, "expertIo", "plan");
  if (p.expert_io != "pread" && p.expert_io != "mmap") throw Napi::TypeError::New(env, "load plan: plan.expertIo \"" + p.expert_io + "\" is not pread or mmap");
  if (plan.Has("expertPolicy") && plan.Get("expertPolicy").IsString()) p.expert_policy = string(plan, "expertPolicy", "plan");
  if (plan.Has("expertPrefetch") && plan.Get("expertPrefetch").IsBoolean()) p.expert_prefetch = plan.Get("expertPrefetch").As<Napi::Boolean>().Value();
  if (plan.Has("expertIoThreads") && plan.Get("expertIoThreads").IsNumber()) p.expert_io_threads = integer(plan, "expertIoThreads", "plan");
  if (p.expert_io_threads < 1 || p.expert_io_threads > 256) throw Napi::TypeError::New(env, "load plan: plan.expertIoThreads must be in 1..256");
  if (plan.Has("recordRoutes") && plan.Get("recordRoutes").IsString()) p.record_routes = string(plan, "recordRoutes", "plan");
  return p;
}

}  // namespace k2
