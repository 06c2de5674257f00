// runBackendOp(backend, op, args, options): runs one backend op on JS typed arrays and returns its
// output, so tests can check each kernel of each backend against a plain reference (the
// llama.cpp test-backend-ops habit). Inputs are copied into backend-allocated memory first, as the
// model's would be, which is what a GPU backend needs to find them.
#include <napi.h>

#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backend/backend_factory.h"
#include "backend/cpu/cpu_backend.h"

namespace k2 {

namespace {

struct Scratch {
  explicit Scratch(Backend& b) : b(b) {}
  ~Scratch() {
    for (void* p : owned) b.free(p);
  }
  template <typename T>
  T* alloc(size_t n) {
    void* p = b.alloc(std::max<size_t>(n, 1) * sizeof(T));
    owned.push_back(p);
    return static_cast<T*>(p);
  }
  Backend& b;
  std::vector<void*> owned;
};

Napi::Value get(const Napi::Object& o, const char* k) {
  if (!o.Has(k) || o.Get(k).IsUndefined()) throw Napi::TypeError::New(o.Env(), std::string("runBackendOp: args.") + k + " is required");
  return o.Get(k);
}

int geti(const Napi::Object& o, const char* k) {
  Napi::Value v = get(o, k);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("runBackendOp: args.") + k + " must be a number");
  return v.As<Napi::Number>().Int32Value();
}

float getf(const Napi::Object& o, const char* k) {
  Napi::Value v = get(o, k);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("runBackendOp: args.") + k + " must be a number");
  return v.As<Napi::Number>().FloatValue();
}

template <typename T, napi_typedarray_type Type>
T* copy_in(Scratch& s, const Napi::Object& o, const char* k, size_t expect) {
  Napi::Value v = get(o, k);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != Type)
    throw Napi::TypeError::New(o.Env(), std::string("runBackendOp: args.") + k + " has the wrong typed-array type");
  Napi::TypedArrayOf<T> a = v.As<Napi::TypedArrayOf<T>>();
  if (expect != static_cast<size_t>(-1) && a.ElementLength() != expect)
    throw Napi::RangeError::New(o.Env(), std::string("runBackendOp: args.") + k + " has " + std::to_string(a.ElementLength()) +
                                             " elements, expected " + std::to_string(expect));
  T* p = s.alloc<T>(a.ElementLength());
  std::memcpy(p, a.Data(), a.ElementLength() * sizeof(T));
  return p;
}

const size_t kAny = static_cast<size_t>(-1);
#define F32(k, n) copy_in<float, napi_float32_array>(s, a, k, n)
#define U16(k, n) copy_in<uint16_t, napi_uint16_array>(s, a, k, n)
#define U32(k, n) copy_in<uint32_t, napi_uint32_array>(s, a, k, n)
#define I32(k, n) copy_in<int32_t, napi_int32_array>(s, a, k, n)

Napi::Float32Array out_f32(Napi::Env env, const float* p, size_t n) {
  Napi::Float32Array r = Napi::Float32Array::New(env, n);
  std::memcpy(r.Data(), p, n * sizeof(float));
  return r;
}

// isa (cpu only, empty = the default tier) picks one kernel tier, so a test can check every tier
// this CPU runs against the same reference.
Backend& backend_for(const std::string& name, int threads, CpuMode mode, const std::string& isa) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<Backend>> cache;
  const std::string key = name + "/" + std::to_string(threads) + "/" + (mode == CpuMode::fast ? "fast" : "exact") + "/" + isa;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(key);
  if (it == cache.end()) {
    std::unique_ptr<Backend> b;
    if (isa.empty()) {
      b = make_backend(name, threads, mode);
    } else {
      if (name != "cpu") throw std::invalid_argument("isa applies to the cpu backend only, not " + name);
      const CpuKernels* k = cpu_kernels_named(isa.c_str());
      if (!k) throw std::invalid_argument("kernel tier " + isa + " does not run on this CPU");
      b = std::make_unique<CpuBackend>(threads <= 0 ? default_thread_count() : threads, mode, *k);
    }
    it = cache.emplace(key, std::move(b)).first;
  }
  return *it->second;
}

Int4Matrix int4_from(Scratch& s, const Napi::Object& a, const char* packed, const char* scales, int rows, int cols) {
  Int4Matrix m;
  m.rows = rows;
  m.cols = cols;
  m.packed = U32(packed, static_cast<size_t>(rows) * cols / 8);
  m.scales = U16(scales, static_cast<size_t>(rows) * cols / 32);
  return m;
}

Napi::Value run_op(Napi::Env env, Backend& b, const std::string& op, const Napi::Object& a) {
  Scratch s(b);
  if (op == "matmul_bf16") {
    const int n = geti(a, "n"), rows = geti(a, "rows"), cols = geti(a, "cols");
    float* x = F32("x", static_cast<size_t>(n) * cols);
    Bf16Matrix w{U16("w", static_cast<size_t>(rows) * cols), rows, cols};
    float* y = s.alloc<float>(static_cast<size_t>(n) * rows);
    b.matmul_bf16(x, n, w, y);
    b.sync();
    return out_f32(env, y, static_cast<size_t>(n) * rows);
  }
  if (op == "matmul_bf16_multi") {
    // args.mats: [{ w: Uint16Array, rows }]; the result is each product's [n, rows] in turn.
    const int n = geti(a, "n"), cols = geti(a, "cols");
    float* x = F32("x", static_cast<size_t>(n) * cols);
    Napi::Value mv = get(a, "mats");
    if (!mv.IsArray()) throw Napi::TypeError::New(env, "runBackendOp: args.mats must be an array");
    Napi::Array mats = mv.As<Napi::Array>();
    std::vector<Bf16Product> ps(mats.Length());
    size_t total = 0;
    for (uint32_t i = 0; i < mats.Length(); i++) {
      Napi::Object m = mats.Get(i).As<Napi::Object>();
      const int rows = geti(m, "rows");
      ps[i].w = Bf16Matrix{copy_in<uint16_t, napi_uint16_array>(s, m, "w", static_cast<size_t>(rows) * cols), rows, cols};
      total += static_cast<size_t>(n) * rows;
    }
    float* y = s.alloc<float>(total);
    size_t off = 0;
    for (Bf16Product& p : ps) {
      p.y = y + off;
      off += static_cast<size_t>(n) * p.w.rows;
    }
    b.matmul_bf16_multi(x, n, ps.data(), static_cast<int>(ps.size()));
    b.sync();
    return out_f32(env, y, total);
  }
  if (op == "matmul_int4") {
    const int n = geti(a, "n"), rows = geti(a, "rows"), cols = geti(a, "cols");
    if (cols % 32) throw Napi::RangeError::New(env, "runBackendOp: matmul_int4 cols must be a multiple of 32");
    float* x = F32("x", static_cast<size_t>(n) * cols);
    Int4Matrix w = int4_from(s, a, "packed", "scales", rows, cols);
    float* y = s.alloc<float>(static_cast<size_t>(n) * rows);
    b.matmul_int4(x, n, w, y);
    b.sync();
    return out_f32(env, y, static_cast<size_t>(n) * rows);
  }
  if (op == "embed_bf16") {
    const int rows = geti(a, "rows"), cols = geti(a, "cols");
    Bf16Matrix t{U16("table", static_cast<size_t>(rows) * cols), rows, cols};
    Napi::Int32Array ids = get(a, "ids").As<Napi::Int32Array>();
    const int n = static_cast<int>(ids.ElementLength());
    int32_t* id = I32("ids", kAny);
    float* out = s.alloc<float>(static_cast<size_t>(n) * cols);
    b.embed_bf16(t, id, n, out);
    b.sync();
    return out_f32(env, out, static_cast<size_t>(n) * cols);
  }
  if (op == "rmsnorm") {
    const int n = geti(a, "n"), dim = geti(a, "dim"), stride = geti(a, "stride");
    float* x = F32("x", static_cast<size_t>(n) * stride);
    uint16_t* w = U16("w", dim);
    b.rmsnorm(x, n, dim, stride, w, getf(a, "eps"), x);
    b.sync();
    return out_f32(env, x, static_cast<size_t>(n) * stride);
  }
  if (op == "rope") {
    const int n = geti(a, "n"), rs = geti(a, "rowStride"), rd = geti(a, "ropeDim");
    float* x = F32("x", static_cast<size_t>(n) * rs);
    b.rope(x, n, geti(a, "nHeads"), rs, geti(a, "headStride"), rd, I32("pos", n), F32("invFreq", rd / 2));
    b.sync();
    return out_f32(env, x, static_cast<size_t>(n) * rs);
  }
  if (op == "mla_attention") {
    MlaAttentionArgs m;
    m.n_tokens = geti(a, "nTokens");
    m.n_heads = geti(a, "nHeads");
    m.nope_dim = geti(a, "nopeDim");
    m.rope_dim = geti(a, "ropeDim");
    m.v_dim = geti(a, "vDim");
    m.kv_lora = geti(a, "kvLora");
    const int ctx = geti(a, "nCtx");
    m.q = F32("q", static_cast<size_t>(m.n_tokens) * m.n_heads * (m.nope_dim + m.rope_dim));
    m.kv_b = Bf16Matrix{U16("kvB", static_cast<size_t>(m.n_heads) * (m.nope_dim + m.v_dim) * m.kv_lora), m.n_heads * (m.nope_dim + m.v_dim),
                        m.kv_lora};
    m.cache_c = F32("cacheC", static_cast<size_t>(ctx) * m.kv_lora);
    m.cache_pe = F32("cachePe", static_cast<size_t>(ctx) * m.rope_dim);
    int32_t* pos = I32("pos", m.n_tokens);
    for (int i = 0; i < m.n_tokens; i++)
      if (pos[i] < 0 || pos[i] >= ctx) throw Napi::RangeError::New(env, "runBackendOp: mla_attention pos outside nCtx");
    m.pos = pos;
    m.softmax_scale = getf(a, "softmaxScale");
    m.out = s.alloc<float>(static_cast<size_t>(m.n_tokens) * m.n_heads * m.v_dim);
    b.mla_attention(m);
    b.sync();
    return out_f32(env, m.out, static_cast<size_t>(m.n_tokens) * m.n_heads * m.v_dim);
  }
  if (op == "router_topk") {
    RouterArgs r;
    r.n_tokens = geti(a, "nTokens");
    r.n_experts = geti(a, "nExperts");
    r.top_k = geti(a, "topK");
    r.n_group = geti(a, "nGroup");
    r.topk_group = geti(a, "topkGroup");
    r.norm_topk_prob = get(a, "normTopkProb").ToBoolean().Value();
    r.routed_scaling_factor = getf(a, "scaling");
    r.logits = F32("logits", static_cast<size_t>(r.n_tokens) * r.n_experts);
    r.bias = a.Has("bias") && !a.Get("bias").IsUndefined() ? F32("bias", r.n_experts) : nullptr;
    r.expert_ids = s.alloc<int32_t>(static_cast<size_t>(r.n_tokens) * r.top_k);
    r.weights = s.alloc<float>(static_cast<size_t>(r.n_tokens) * r.top_k);
    b.router_topk(r);
    b.sync();
    Napi::Object o = Napi::Object::New(env);
    Napi::Int32Array ids = Napi::Int32Array::New(env, static_cast<size_t>(r.n_tokens) * r.top_k);
    std::memcpy(ids.Data(), r.expert_ids, ids.ElementLength() * 4);
    o.Set("ids", ids);
    o.Set("weights", out_f32(env, r.weights, static_cast<size_t>(r.n_tokens) * r.top_k));
    return o;
  }
  if (op == "swiglu") {
    const int n = geti(a, "n"), dim = geti(a, "dim");
    float* g = F32("gate", static_cast<size_t>(n) * dim);
    float* u = F32("up", static_cast<size_t>(n) * dim);
    float* out = s.alloc<float>(static_cast<size_t>(n) * dim);
    b.swiglu(g, u, n, dim, out);
    b.sync();
    return out_f32(env, out, static_cast<size_t>(n) * dim);
  }
  if (op == "add") {
    Napi::Float32Array ya = get(a, "y").As<Napi::Float32Array>();
    const size_t n = ya.ElementLength();
    float* y = F32("y", n);
    b.add(y, F32("x", n), n);
    b.sync();
    return out_f32(env, y, n);
  }
  if (op == "kv_append") {
    // cache_c / cache_pe: the whole layer cache (capacity rows); returns both after the append.
    const int n = geti(a, "n"), row_stride = geti(a, "rowStride"), lora = geti(a, "kvLora"), rope = geti(a, "ropeDim"),
              start = geti(a, "start"), capacity = geti(a, "capacity");
    if (n < 0 || start < 0 || start + n > capacity || row_stride < lora + rope)
      throw Napi::RangeError::New(env, "runBackendOp: kv_append needs start + n <= capacity and rowStride >= kvLora + ropeDim");
    float* kv = F32("kv", static_cast<size_t>(n) * row_stride);
    float* c = F32("cacheC", static_cast<size_t>(capacity) * lora);
    float* pe = F32("cachePe", static_cast<size_t>(capacity) * rope);
    b.kv_append(kv, n, row_stride, lora, rope, c, pe, start);
    b.sync();
    Napi::Object o = Napi::Object::New(env);
    o.Set("cacheC", out_f32(env, c, static_cast<size_t>(capacity) * lora));
    o.Set("cachePe", out_f32(env, pe, static_cast<size_t>(capacity) * rope));
    return o;
  }
  if (op == "moe_experts" || op == "moe_experts_with") {
    // moe_experts_with also takes args.with = { x: Float32Array, n, w: Uint16Array, rows, cols } and
    // returns { out, y } (y: the product, [with.n, rows]).
    const int n = geti(a, "n"), dim = geti(a, "dim"), inter = geti(a, "inter");
    float* x = F32("x", static_cast<size_t>(n) * dim);
    float* out = F32("out", static_cast<size_t>(n) * dim);
    Napi::Value ev = get(a, "experts"), gv = get(a, "groups");
    if (!ev.IsArray() || !gv.IsArray()) throw Napi::TypeError::New(env, "runBackendOp: moe_experts needs experts[] and groups[]");
    Napi::Array ea = ev.As<Napi::Array>(), ga = gv.As<Napi::Array>();
    std::vector<ExpertWeights> experts(ea.Length());
    for (uint32_t i = 0; i < ea.Length(); i++) {
      Napi::Object e = ea.Get(i).As<Napi::Object>();
      experts[i].gate = int4_from(s, e, "gatePacked", "gateScales", inter, dim);
      experts[i].up = int4_from(s, e, "upPacked", "upScales", inter, dim);
      experts[i].down = int4_from(s, e, "downPacked", "downScales", dim, inter);
    }
    std::vector<MoeGroup> groups(ga.Length());
    for (uint32_t i = 0; i < ga.Length(); i++) {
      Napi::Object g = ga.Get(i).As<Napi::Object>();
      const int e = geti(g, "expert");
      if (e < 0 || e >= static_cast<int>(experts.size())) throw Napi::RangeError::New(env, "runBackendOp: group expert index out of range");
      Napi::Int32Array rows = get(g, "rows").As<Napi::Int32Array>();
      groups[i].expert = &experts[e];
      groups[i].n_rows = static_cast<int>(rows.ElementLength());
      int32_t* r = copy_in<int32_t, napi_int32_array>(s, g, "rows", kAny);
      for (int j = 0; j < groups[i].n_rows; j++)
        if (r[j] < 0 || r[j] >= n) throw Napi::RangeError::New(env, "runBackendOp: group row out of range");
      groups[i].rows = r;
      groups[i].weights = copy_in<float, napi_float32_array>(s, g, "weights", groups[i].n_rows);
    }
    if (op == "moe_experts") {
      b.moe_experts(x, dim, inter, groups.data(), static_cast<int>(groups.size()), out);
      b.sync();
      return out_f32(env, out, static_cast<size_t>(n) * dim);
    }
    Napi::Value wv = get(a, "with");
    if (!wv.IsObject()) throw Napi::TypeError::New(env, "runBackendOp: moe_experts_with needs args.with");
    Napi::Object wo = wv.As<Napi::Object>();
    const int wn = geti(wo, "n"), rows = geti(wo, "rows"), cols = geti(wo, "cols");
    float* wx = copy_in<float, napi_float32_array>(s, wo, "x", static_cast<size_t>(wn) * cols);
    Bf16Product with{Bf16Matrix{copy_in<uint16_t, napi_uint16_array>(s, wo, "w", static_cast<size_t>(rows) * cols), rows, cols},
                     s.alloc<float>(static_cast<size_t>(wn) * rows)};
    b.moe_experts_with(x, dim, inter, groups.data(), static_cast<int>(groups.size()), out, wx, wn, with);
    b.sync();
    Napi::Object o = Napi::Object::New(env);
    o.Set("out", out_f32(env, out, static_cast<size_t>(n) * dim));
    o.Set("y", out_f32(env, with.y, static_cast<size_t>(wn) * rows));
    return o;
  }
  throw Napi::Error::New(env, "runBackendOp: unknown op \"" + op + "\"");
}

}  // namespace

Napi::Value RunBackendOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsString() || !info[2].IsObject())
    throw Napi::TypeError::New(env, "runBackendOp(backend, op, args, options?)");
  int threads = 0;
  CpuMode mode = CpuMode::exact;
  std::string isa;
  if (info.Length() > 3 && info[3].IsObject()) {
    Napi::Object o = info[3].As<Napi::Object>();
    if (o.Has("isa") && o.Get("isa").IsString()) isa = o.Get("isa").As<Napi::String>().Utf8Value();
    if (o.Has("threads") && o.Get("threads").IsNumber()) threads = o.Get("threads").As<Napi::Number>().Int32Value();
    if (o.Has("cpuMode") && o.Get("cpuMode").IsString()) {
      std::string m = o.Get("cpuMode").As<Napi::String>().Utf8Value();
      if (m == "fast") mode = CpuMode::fast;
      else if (m != "exact") throw Napi::TypeError::New(env, "runBackendOp: cpuMode must be exact or fast");
    }
  }
  Backend* b;
  try {
    b = &backend_for(info[0].As<Napi::String>().Utf8Value(), threads, mode, isa);
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string("runBackendOp: ") + e.what());
  }
  try {
    return run_op(env, *b, info[1].As<Napi::String>().Utf8Value(), info[2].As<Napi::Object>());
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, "runBackendOp " + info[1].As<Napi::String>().Utf8Value() + ": " + e.what());
  }
}

}  // namespace k2
