// Absorbed MLA attention on the CPU backend, organised around the latent cache rather than the
// heads. Every head attends over the same latent rows (kv_lora + rope values per position), so
// each block of cache rows is loaded once and used by all heads while it sits in L1/L2: the cache
// is read once per query token, not once per head (64 times for K2, whose 32K-token cache is
// ~75 MB of f32 per layer). Softmax runs online per head (running max, rescaled sums), FlashAttention
// style.
//
// Three schedules:
// - few query tokens (decode) over a short context: one parallel region whose items are groups of
//   heads, each absorbing, attending and projecting its heads (the cache is small; each group
//   reads it once);
// - few query tokens over a longer context: the context is split into parts run in parallel, each
//   keeping per-head partial results (max, sum, Σp·c) that are merged at the end
//   ("flash-decoding"); the absorption of W_uk into the queries and the W_uv output projection run
//   in parallel over heads;
// - many query tokens (prefill): one token per work item, all heads of it over its whole context.
// All three walk cache rows through mla_attend_rows: the kernel table's mla_rows where the CPU has
// one (mla_rows_avx512.cpp, mla_rows_avx2.cpp, mla_rows_neon.cpp), else dot_rows / axpy_rows per head.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "backend/cpu/cpu_backend.h"

namespace k2 {

namespace {

// Cache rows per block: 16 rows of K2's 512-wide latent are 32 KB, which stay in L1/L2 while
// every head takes its scores and its weighted sum over them.
constexpr int kBlockRows = 16;
// Query tokens up to which the context is split across threads (decode, speculative steps).
constexpr int kSplitMaxTokens = 4;
// Fewest cache rows a part of a split context gets: below this the merge costs more than it saves.
constexpr int kMinPartRows = 128;
// Fewest multiply-adds a work item of the decode absorption / projection gets. A small model's
// heads are a few thousand each (the benchmark model's: 64 × 128), less than the wake-up and join
// of a parallel region costs, so its heads run together on one thread; K2's (128 × 512) still
// split one per item. Measured on the benchmark model's decode: see docs/benchmarks.md.
constexpr int64_t kMinHeadWork = 65536;

}  // namespace


// Rows [c0, c1) of the cache for all heads of one query: updates st[h] and o[h·L..] (Σ exp(s - m)·c)
// in place.
void CpuBackend::mla_attend_rows(const MlaAttentionArgs& a, const float* q_lat, const float* q, int c0, int c1, MlaHeadState* st,
                                 float* o) {
  const int H = a.n_heads, L = a.kv_lora, R = a.rope_dim, qk = a.nope_dim + a.rope_dim;
  if (k_.mla_rows && H <= kMaxMlaHeads) {
    MlaRowsArgs r;
    r.q_lat = q_lat;
    r.q_pe = q + a.nope_dim;
    r.q_pe_stride = qk;
    r.cache_c = a.cache_c;
    r.cache_pe = a.cache_pe;
    r.n_heads = H;
    r.kv_lora = L;
    r.rope_dim = R;
    r.scale = a.softmax_scale;
    r.st = st;
    r.o = o;
    k_.mla_rows(r, c0, c1);
    return;
  }
  float s[kBlockRows], pe[kBlockRows];
  for (int cb = c0; cb < c1; cb += kBlockRows) {
    const int nb = std::min(kBlockRows, c1 - cb);
    const float* C = a.cache_c + static_cast<size_t>(cb) * L;
    const float* P = a.cache_pe + static_cast<size_t>(cb) * R;
    for (int h = 0; h < H; h++) {
      k_.dot_rows(q_lat + static_cast<size_t>(h) * L, C, nb, L, s);
      k_.dot_rows(q + static_cast<size_t>(h) * qk + a.nope_dim, P, nb, R, pe);
      float bmax = -std::numeric_limits<float>::infinity();
      for (int j = 0; j < nb; j++) {
        s[j] = (s[j] + pe[j]) * a.softmax_scale;
        bmax = std::max(bmax, s[j]);
      }
      MlaHeadState& sh = st[h];
      float* oh = o + static_cast<size_t>(h) * L;
      if (bmax > sh.m) {
        // A new maximum: what was summed so far is rescaled to it (nothing yet on the first block).
        if (sh.l > 0) {
          const float f = std::exp(sh.m - bmax);
          sh.l *= f;
          for (int i = 0; i < L; i++) oh[i] *= f;
        }
        sh.m = bmax;
      }
      double sum = 0;
      for (int j = 0; j < nb; j++) {
        s[j] = std::exp(s[j] - sh.m);
        sum += s[j];
      }
      sh.l += sum;
      k_.axpy_rows(s, C, nb, L, oh);
    }
  }
}

void CpuBackend::mla_absorb(const MlaAttentionArgs& a, int t, int h, float* q_lat) {
  const int L = a.kv_lora, qk = a.nope_dim + a.rope_dim;
  const float* q = a.q + (static_cast<size_t>(t) * a.n_heads + h) * qk;
  const uint16_t* w_uk = a.kv_b.data + static_cast<size_t>(h) * (a.nope_dim + a.v_dim) * L;
  std::fill(q_lat, q_lat + L, 0.0f);
  for (int i = 0; i < a.nope_dim; i++) k_.axpy_bf16(q[i], w_uk + static_cast<size_t>(i) * L, q_lat, L);
}

void CpuBackend::mla_project(const MlaAttentionArgs& a, int t, int h, const float* o_lat) {
  const int L = a.kv_lora;
  const uint16_t* w_uv = a.kv_b.data + (static_cast<size_t>(h) * (a.nope_dim + a.v_dim) + a.nope_dim) * L;
  float* out = a.out + static_cast<size_t>(t) * a.n_heads * a.v_dim + static_cast<size_t>(h) * a.v_dim;
  for (int v = 0; v < a.v_dim; v++) out[v] = k_.dot_bf16(w_uv + static_cast<size_t>(v) * L, o_lat, L);
}

void CpuBackend::mla_token_heads(const MlaAttentionArgs& a, int t, int h0, int h1) {
  const int L = a.kv_lora, hn = h1 - h0, qk = a.nope_dim + a.rope_dim;
  thread_local std::vector<float> q_lat, o;
  thread_local std::vector<MlaHeadState> st;
  q_lat.resize(static_cast<size_t>(hn) * L);
  o.assign(static_cast<size_t>(hn) * L, 0.0f);
  st.assign(hn, MlaHeadState{-std::numeric_limits<float>::infinity(), 0.0});
  for (int h = h0; h < h1; h++) mla_absorb(a, t, h, q_lat.data() + static_cast<size_t>(h - h0) * L);
  MlaAttentionArgs heads = a;
  heads.n_heads = hn;  // mla_attend_rows walks heads 0..hn-1 of the pointers it is given
  mla_attend_rows(heads, q_lat.data(), a.q + (static_cast<size_t>(t) * a.n_heads + h0) * qk, 0, a.pos[t] + 1, st.data(), o.data());
  for (int h = h0; h < h1; h++) {
    float* oh = o.data() + static_cast<size_t>(h - h0) * L;
    const float inv = static_cast<float>(1.0 / st[h - h0].l);
    for (int i = 0; i < L; i++) oh[i] *= inv;
    mla_project(a, t, h, oh);
  }
}

void CpuBackend::mla_attention(const MlaAttentionArgs& a) {
  const int H = a.n_heads, L = a.kv_lora, n = a.n_tokens, qk = a.nope_dim + a.rope_dim;
  if (n <= 0) return;
  const float neg_inf = -std::numeric_limits<float>::infinity();

  if (n > kSplitMaxTokens) {
    // Prefill: a token per item; its queries for all heads walk its context once.
    pool_.parallel_for(
        n,
        [&](int64_t t0, int64_t t1, int) {
          for (int64_t t = t0; t < t1; t++) mla_token_heads(a, static_cast<int>(t), 0, H);
        },
        1);
    return;
  }

  // Decode: parts of each token's context in parallel, merged per head.
  int max_ctx = 0;
  for (int t = 0; t < n; t++) max_ctx = std::max(max_ctx, a.pos[t] + 1);
  const int parts = std::max(1, std::min(2 * pool_.size(), max_ctx / kMinPartRows));
  if (parts == 1) {
    // A short context is one part: rather than absorb, attend and project in three regions with
    // the attention itself on one thread, each item takes a group of heads through all three, so
    // the pool wakes once per layer. Each group reads the (small) cache once.
    const int groups = std::min(H, 2 * pool_.size());
    pool_.parallel_for(
        static_cast<int64_t>(n) * groups,
        [&](int64_t i0, int64_t i1, int) {
          for (int64_t i = i0; i < i1; i++) {
            const int t = static_cast<int>(i / groups), g = static_cast<int>(i % groups);
            mla_token_heads(a, t, H * g / groups, H * (g + 1) / groups);
          }
        },
        1);
    return;
  }
  const size_t head_rows = static_cast<size_t>(n) * H;
  mla_q_lat_.resize(head_rows * L);
  mla_part_o_.resize(head_rows * parts * L);
  mla_part_st_.resize(head_rows * parts);
  const int64_t absorb_grain = std::max<int64_t>(1, kMinHeadWork / (static_cast<int64_t>(a.nope_dim) * L));
  const int64_t project_grain = std::max<int64_t>(1, kMinHeadWork / (static_cast<int64_t>(a.v_dim + parts) * L));
  pool_.parallel_for(
      static_cast<int64_t>(head_rows),
      [&](int64_t p0, int64_t p1, int) {
        for (int64_t p = p0; p < p1; p++) mla_absorb(a, static_cast<int>(p / H), static_cast<int>(p % H), mla_q_lat_.data() + p * L);
      },
      absorb_grain);
  // Item (t, part): rows [ctx·part/parts, ctx·(part+1)/parts) of token t's context, all heads.
  // Partials are laid out [t][part][h].
  pool_.parallel_for(static_cast<int64_t>(n) * parts, [&](int64_t i0, int64_t i1, int) {
    for (int64_t i = i0; i < i1; i++) {
      const int t = static_cast<int>(i / parts), part = static_cast<int>(i % parts);
      const int ctx = a.pos[t] + 1;
      const int c0 = static_cast<int>(static_cast<int64_t>(ctx) * part / parts), c1 = static_cast<int>(static_cast<int64_t>(ctx) * (part + 1) / parts);
      MlaHeadState* st = mla_part_st_.data() + static_cast<size_t>(i) * H;
      float* o = mla_part_o_.data() + static_cast<size_t>(i) * H * L;
      std::fill(o, o + static_cast<size_t>(H) * L, 0.0f);
      for (int h = 0; h < H; h++) st[h] = MlaHeadState{neg_inf, 0.0};
      mla_attend_rows(a, mla_q_lat_.data() + static_cast<size_t>(t) * H * L, a.q + static_cast<size_t>(t) * H * qk, c0, c1, st, o);
    }
  });
  // Merge each head's parts (rescaled to the overall max) into part 0, normalise, project.
  pool_.parallel_for(static_cast<int64_t>(head_rows), [&](int64_t p0, int64_t p1, int) {
    for (int64_t p = p0; p < p1; p++) {
      const int t = static_cast<int>(p / H), h = static_cast<int>(p % H);
      const MlaHeadState* st = mla_part_st_.data();
      auto state = [&](int part) { return st[(static_cast<size_t>(t) * parts + part) * H + h]; };
      auto o_of = [&](int part) { return mla_part_o_.data() + ((static_cast<size_t>(t) * parts + part) * H + h) * L; };
      float m = neg_inf;
      for (int part = 0; part < parts; part++)
        if (state(part).l > 0) m = std::max(m, state(part).m);
      float* o = o_of(0);
      double l = 0;
      for (int part = 0; part < parts; part++) {
        const MlaHeadState s = state(part);
        if (s.l <= 0) {
          if (part == 0) std::fill(o, o + L, 0.0f);
          continue;
        }
        const float f = std::exp(s.m - m);
        l += s.l * f;
        const float* op = o_of(part);
        if (part == 0) {
          for (int i = 0; i < L; i++) o[i] *= f;
        } else {
          k_.axpy(f, op, o, L);
        }
      }
      const float inv = static_cast<float>(1.0 / l);
      for (int i = 0; i < L; i++) o[i] *= inv;
      mla_project(a, t, h, o);
    }
  }, project_grain);
}

}  // namespace k2
