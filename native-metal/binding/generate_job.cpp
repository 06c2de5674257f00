// generate(): prefill + sample/decode loop on a native thread, streaming each token to JS through
// a ThreadSafeFunction so the event loop never blocks. Cancellation is checked between prefill
// chunks and before every decode step, so it takes effect within one token (or one chunk).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>

#include "binding/session_binding.h"
#include "runtime/expert_telemetry.h"
#include "runtime/sampler.h"

namespace k2 {

namespace {

using Clock = std::chrono::steady_clock;

struct GenEvent {
  enum Kind { token, done, error } kind = token;
  int32_t id = 0;
  int index = 0;
  double elapsed_ms = 0;
  // done
  std::string finish;
  int prefilled = 0, generated = 0;
  double prefill_ms = 0, decode_ms = 0, ttft_ms = 0;
  bool has_experts = false;  // only when an expert cache streams experts
  ExpertTotals experts;
  // error
  std::string message;
};

struct GenContext {
  std::shared_ptr<SessionCore> s;
  std::vector<int32_t> ids;
  SamplerParams params;
  int max_tokens = 0;
  std::vector<int32_t> stop;
  std::shared_ptr<std::atomic<bool>> cancel;
  Napi::ThreadSafeFunction tsfn;
  std::thread thread;
};

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

void deliver(Napi::Env env, Napi::Function cb, GenEvent* ev) {
  if (env != nullptr && cb != nullptr) {
    Napi::Object o = Napi::Object::New(env);
    switch (ev->kind) {
      case GenEvent::token:
        o.Set("type", "token");
        o.Set("id", ev->id);
        o.Set("index", ev->index);
        o.Set("elapsedMs", ev->elapsed_ms);
        break;
      case GenEvent::done:
        o.Set("type", "done");
        o.Set("finishReason", ev->finish);
        o.Set("prefilledTokens", ev->prefilled);
        o.Set("generatedTokens", ev->generated);
        o.Set("prefillMs", ev->prefill_ms);
        o.Set("decodeMs", ev->decode_ms);
        o.Set("timeToFirstTokenMs", ev->ttft_ms);
        if (ev->has_experts) o.Set("experts", expert_totals_object(env, ev->experts));
        break;
      case GenEvent::error:
        o.Set("type", "error");
        o.Set("message", ev->message);
        break;
    }
    cb.Call({o});
  }
  delete ev;
}

void run(GenContext* c) {
  auto emit = [c](GenEvent* ev) {
    if (c->tsfn.BlockingCall(ev, deliver) != napi_ok) delete ev;
  };
  SessionCore& s = *c->s;
  auto* done = new GenEvent();
  done->kind = GenEvent::done;
  ExpertCache* cache = s.engine->expert_cache;
  const ExpertTotals experts_before = cache ? expert_totals(cache->stats()) : ExpertTotals{};
  try {
    const Clock::time_point t0 = Clock::now();
    std::vector<float> logits;
    // Prefill chunk by chunk (the model's own boundaries, so the logits are the same as in one
    // call) so that a cancel during a long prompt lands after at most one chunk. The cache keeps
    // the chunks already done; the session's tokens say which.
    const int n_prompt = static_cast<int>(c->ids.size());
    const int chunk = s.engine->model->max_chunk();
    for (int at = 0; at < n_prompt; at += chunk) {
      if (c->cancel->load()) break;
      const int m = std::min(chunk, n_prompt - at);
      s.forward(c->ids.data() + at, m, at + m == n_prompt ? LogitsMode::last : LogitsMode::none, &logits, false);
      done->prefilled = at + m;
    }
    done->prefill_ms = ms_since(t0);
    const bool prefilled = done->prefilled == n_prompt;
    const int vocab = s.engine->model->config().vocab_size;
    Sampler sampler(c->params);
    std::vector<int32_t> history;
    {
      std::lock_guard<std::mutex> lock(s.mu);
      history = s.tokens;
    }
    Clock::time_point first;
    done->finish = prefilled ? "length" : "cancelled";
    for (int i = 0; prefilled && i < c->max_tokens; i++) {
      if (c->cancel->load()) {
        done->finish = "cancelled";
        break;
      }
      const int32_t tok = sampler.sample(logits.data(), vocab, history);
      history.push_back(tok);
      auto* ev = new GenEvent();
      ev->id = tok;
      ev->index = i;
      ev->elapsed_ms = ms_since(t0);
      if (i == 0) {
        first = Clock::now();
        done->ttft_ms = ev->elapsed_ms;
      }
      emit(ev);
      done->generated = i + 1;
      done->decode_ms = std::chrono::duration<double, std::milli>(Clock::now() - first).count();
      if (std::find(c->stop.begin(), c->stop.end(), tok) != c->stop.end()) {
        done->finish = "stop";
        break;
      }
      if (i + 1 == c->max_tokens) break;
      if (s.cache->length() >= s.cache->capacity()) break;  // context full: finish as "length"
      if (c->cancel->load()) {
        done->finish = "cancelled";
        break;
      }
      s.forward(&tok, 1, LogitsMode::last, &logits, false);
    }
  } catch (const std::exception& e) {
    delete done;
    auto* ev = new GenEvent();
    ev->kind = GenEvent::error;
    ev->message = std::string("generation failed: ") + e.what();
    s.busy = false;
    emit(ev);
    c->tsfn.Release();
    return;
  }
  if (cache) {
    done->has_experts = true;
    done->experts = expert_delta(experts_before, expert_totals(cache->stats()));
  }
  s.busy = false;
  emit(done);
  c->tsfn.Release();
}

float num(const Napi::Object& o, const char* k, float def) {
  if (!o.Has(k) || o.Get(k).IsUndefined() || o.Get(k).IsNull()) return def;
  Napi::Value v = o.Get(k);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("generate: sampling.") + k + " must be a number");
  return v.As<Napi::Number>().FloatValue();
}

}  // namespace

Napi::Value start_generation(const Napi::CallbackInfo& info, std::shared_ptr<SessionCore> session) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[1].IsObject() || !info[2].IsFunction())
    throw Napi::TypeError::New(env, "generate(ids, sampling, onEvent)");
  auto* c = new GenContext();
  try {
    c->s = session;
    c->ids = read_ids(info[0], "generate");
    if (c->ids.empty()) throw Napi::RangeError::New(env, "generate: at least one new prompt token is needed to produce logits");
    Napi::Object o = info[1].As<Napi::Object>();
    c->params.temperature = num(o, "temperature", 1.0f);
    c->params.top_p = num(o, "topP", 1.0f);
    c->params.top_k = static_cast<int>(num(o, "topK", 0));
    c->params.min_p = num(o, "minP", 0);
    c->params.repetition_penalty = num(o, "repetitionPenalty", 1.0f);
    c->params.presence_penalty = num(o, "presencePenalty", 0);
    if (o.Has("seed") && o.Get("seed").IsNumber()) {
      c->params.seed = static_cast<uint64_t>(o.Get("seed").As<Napi::Number>().Int64Value());
    } else {
      c->params.seed = (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
    }
    c->max_tokens = static_cast<int>(num(o, "maxTokens", 256));
    if (c->max_tokens < 0) throw Napi::RangeError::New(env, "generate: sampling.maxTokens must be >= 0");
    if (o.Has("stopIds") && !o.Get("stopIds").IsUndefined()) c->stop = read_ids(o.Get("stopIds"), "generate stopIds");
    // Cancelled before it starts (the caller's request was aborted while it waited): the job
    // prefills nothing and finishes "cancelled" instead of racing a cancel() made after the start.
    c->cancel = std::make_shared<std::atomic<bool>>(o.Has("cancelled") && o.Get("cancelled").ToBoolean().Value());
  } catch (...) {
    delete c;
    throw;
  }
  bool expected = false;
  if (!session->busy.compare_exchange_strong(expected, true)) {
    delete c;
    throw Napi::Error::New(env, "generate: the session is busy");
  }
  c->tsfn = Napi::ThreadSafeFunction::New(env, info[2].As<Napi::Function>(), "k2-generate", 0, 1, c,
                                          [](Napi::Env, GenContext* ctx) {
                                            if (ctx->thread.joinable()) ctx->thread.join();
                                            delete ctx;
                                          });
  c->thread = std::thread(run, c);
  auto cancel = c->cancel;
  Napi::Object handle = Napi::Object::New(env);
  handle.Set("cancel", Napi::Function::New(env, [cancel](const Napi::CallbackInfo&) { cancel->store(true); }));
  return handle;
}

}  // namespace k2
