#include "backend/cpu/cpu_backend.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>

#include <sys/mman.h>

namespace k2 {

namespace {
// Work is split in whole panels of weight rows (the GEMM's panel height), never below.
constexpr int64_t kPanelRows = 16;
// Token rows from which the panel-packed GEMM beats the row kernels (measured on Zen AVX2:
// packing costs about as much as 16-24 token rows of FMAs; the int16 fast kernel holds longer).
constexpr int kGemmMinBf16 = 24;
constexpr int kGemmMinInt4Exact = 12;
constexpr int kGemmMinInt4Fast = 24;
// Chunks per thread a matmul's weight rows are cut into. The pool hands each thread a contiguous
// run of chunks and lets idle threads steal single chunks from the back of others' runs
// (runtime/thread_pool.h), so in decode (a few token rows: a pure stream of weights) each thread
// still streams one long stretch, and the chunk size only sets how finely the end is balanced.
// Measured on the benchmark model, alternated runs: one shared chunk counter with 2 chunks per
// thread (each thread's share in two pieces) 92.1 tok/s median; runs + stealing with 2 chunks per
// thread 94.9, with 8 94.4 (best 98.2 / 100.6); 32 shared chunks had given 48.2 vs 62.5 for 2.
// Prefill has far more work per weight byte and keeps fine chunks.
constexpr int kStreamTokens = 4;
constexpr int64_t kStreamChunksPerThread = 8;
constexpr int64_t kComputeChunksPerThread = 32;
int64_t chunks_per_thread(int token_rows) { return token_rows <= kStreamTokens ? kStreamChunksPerThread : kComputeChunksPerThread; }
}  // namespace

CpuBackend::CpuBackend(int threads, CpuMode mode) : CpuBackend(threads, mode, cpu_kernels()) {}

CpuBackend::CpuBackend(int threads, CpuMode mode, const CpuKernels& kernels) : pool_(threads), mode_(mode), k_(kernels) {}

std::string CpuBackend::name() const {
  return std::string("cpu (") + k_.isa + ", " + (mode_ == CpuMode::fast ? "fast" : "exact") + ", " +
         std::to_string(pool_.size()) + (pool_.size() == 1 ? " thread)" : " threads)");
}

void* CpuBackend::alloc(size_t bytes) {
  constexpr size_t kAlign = 16384;
  size_t rounded = (std::max<size_t>(bytes, 1) + kAlign - 1) / kAlign * kAlign;
  if (rounded >= kMapThreshold) {
    // Large buffers (KV caches, logits) come from anonymous mappings: zero pages are committed
    // only when touched, so a long context costs memory only as it fills.
    const size_t len = rounded + kAlign;
    void* base = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) throw std::runtime_error("cpu backend: out of memory mapping " + std::to_string(bytes) + " bytes");
    void* p = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(base) + kAlign - 1) / kAlign * kAlign);
    std::lock_guard<std::mutex> lock(map_mu_);
    mapped_[p] = {base, len};
    return p;
  }
  void* p = std::aligned_alloc(kAlign, rounded);
  if (!p) throw std::runtime_error("cpu backend: out of memory allocating " + std::to_string(bytes) + " bytes");
  std::memset(p, 0, rounded);
  return p;
}

void CpuBackend::free(void* p) {
  if (!p) return;
  {
    std::lock_guard<std::mutex> lock(map_mu_);
    auto it = mapped_.find(p);
    if (it != mapped_.end()) {
      ::munmap(it->second.first, it->second.second);
      mapped_.erase(it);
      return;
    }
  }
  std::free(p);
}

CpuBackend::~CpuBackend() {
  for (auto& [p, m] : mapped_) ::munmap(m.first, m.second);
}

Q16Rows CpuBackend::q16_buffer(int rows, int cols, int slot) {
  Q16Buffer& b = q16_[slot];
  Q16Rows q;
  q.cols = cols;
  q16_shape(k_, cols, q.row_elems, q.row_groups);
  const size_t elems = static_cast<size_t>(rows) * q.row_elems, groups = static_cast<size_t>(rows) * q.row_groups;
  // Quantizers write whole padded rows (padding zeroed), so reuse across shapes is safe.
  if (b.qs.size() < elems) b.qs.resize(elems);
  if (b.d.size() < groups) {
    b.d.resize(groups);
    b.dsum8.resize(groups);
  }
  q.qs = b.qs.data();
  q.d = b.d.data();
  q.dsum8 = b.dsum8.data();
  return q;
}

Q16Rows CpuBackend::quantize(const float* x, int n, int cols, int slot) {
  Q16Rows q = q16_buffer(n, cols, slot);
  pool_.parallel_for(
      n, [&](int64_t t0, int64_t t1, int) { k_.quantize_q16(x + t0 * cols, static_cast<int>(t1 - t0), cols, q, static_cast<int>(t0)); },
      8);
  return q;
}

Q16Rows CpuBackend::quantize_groups(const float* x, int cols, const MoeGroup* groups, const int* offset, int n_groups, int slot,
                                    int* share_rows) {
  Q16Rows q = q16_buffer(offset[n_groups], cols, slot);
  // Decode sends its one token to every chosen expert: quantize it once, not once per expert.
  std::vector<std::pair<int32_t, int>>& done = q16_done_;  // (token, row) of one-row groups quantized so far
  done.clear();
  for (int g = 0; g < n_groups; g++) {
    if (share_rows) share_rows[g] = offset[g];
    if (int4_gemm_pays(groups[g].n_rows)) continue;
    if (share_rows && groups[g].n_rows == 1) {
      const int32_t token = groups[g].rows[0];
      auto it = std::find_if(done.begin(), done.end(), [&](const auto& d) { return d.first == token; });
      if (it != done.end()) {
        share_rows[g] = it->second;
        continue;
      }
      done.emplace_back(token, offset[g]);
    }
    k_.quantize_q16(x + static_cast<size_t>(offset[g]) * cols, groups[g].n_rows, cols, q, offset[g]);
  }
  return q;
}

void CpuBackend::for_panels(int rows, int token_rows, const std::function<void(int, int)>& fn) {
  const int64_t panels = (rows + kPanelRows - 1) / kPanelRows;
  pool_.parallel_for(
      panels,
      [&](int64_t p0, int64_t p1, int) { fn(static_cast<int>(p0 * kPanelRows), static_cast<int>(std::min<int64_t>(rows, p1 * kPanelRows))); },
      std::max<int64_t>(1, panels / (pool_.size() * chunks_per_thread(token_rows))));
}

void CpuBackend::matmul_bf16(const float* x, int n, const Bf16Matrix& w, float* y) {
  const Bf16RowsFn fn = n >= kGemmMinBf16 ? k_.bf16_gemm : k_.bf16_rows;
  for_panels(w.rows, n, [&](int r0, int r1) { fn(x, n, w, y, w.rows, r0, r1); });
}

void CpuBackend::matmul_bf16_multi(const float* x, int n, const Bf16Product* products, int count) {
  if (count <= 0) return;
  // The matrices' panels laid end to end; a chunk may span the end of one matrix and the start of
  // the next, so the split is as even as for one matrix of all their rows.
  std::vector<int64_t>& first = multi_first_;
  first.assign(count + 1, 0);
  for (int i = 0; i < count; i++) {
    if (products[i].w.cols != products[0].w.cols)
      throw std::invalid_argument("matmul_bf16_multi: matrix " + std::to_string(i) + " has " + std::to_string(products[i].w.cols) +
                                  " columns, matrix 0 has " + std::to_string(products[0].w.cols));
    first[i + 1] = first[i] + (products[i].w.rows + kPanelRows - 1) / kPanelRows;
  }
  const int64_t panels = first[count];
  const Bf16RowsFn fn = n >= kGemmMinBf16 ? k_.bf16_gemm : k_.bf16_rows;
  pool_.parallel_for(
      panels,
      [&](int64_t p0, int64_t p1, int) {
        for (int i = 0; i < count; i++) {
          const int64_t a = std::max(p0, first[i]), b = std::min(p1, first[i + 1]);
          if (a >= b) continue;
          const Bf16Matrix& w = products[i].w;
          const int r0 = static_cast<int>((a - first[i]) * kPanelRows);
          const int r1 = static_cast<int>(std::min<int64_t>(w.rows, (b - first[i]) * kPanelRows));
          fn(x, n, w, products[i].y, w.rows, r0, r1);
        }
      },
      std::max<int64_t>(1, panels / (pool_.size() * chunks_per_thread(n))));
}

bool CpuBackend::int4_gemm_pays(int n) const {
  return n >= (mode_ == CpuMode::fast ? kGemmMinInt4Fast : kGemmMinInt4Exact);
}

void CpuBackend::matmul_int4(const float* x, int n, const Int4Matrix& w, float* y) {
  if (w.cols % 32 != 0) throw std::invalid_argument("matmul_int4: cols must be a multiple of 32, got " + std::to_string(w.cols));
  if (int4_gemm_pays(n)) {
    for_panels(w.rows, n, [&](int r0, int r1) { k_.int4_gemm(x, n, w, y, w.rows, r0, r1); });
    return;
  }
  if (mode_ == CpuMode::fast) {
    Q16Rows q = quantize(x, n, w.cols, 0);
    for_panels(w.rows, n, [&](int r0, int r1) { k_.int4_q16_rows(q, n, w, y, w.rows, r0, r1); });
    return;
  }
  for_panels(w.rows, n, [&](int r0, int r1) { k_.int4_rows(x, n, w, y, w.rows, r0, r1); });
}

void CpuBackend::embed_bf16(const Bf16Matrix& table, const int32_t* ids, int n, float* out) {
  for (int i = 0; i < n; i++) {
    if (ids[i] < 0 || ids[i] >= table.rows)
      throw std::out_of_range("embed: token id " + std::to_string(ids[i]) + " outside vocabulary of " + std::to_string(table.rows));
    const uint16_t* row = table.data + static_cast<size_t>(ids[i]) * table.cols;
    float* o = out + static_cast<size_t>(i) * table.cols;
    for (int k = 0; k < table.cols; k++) o[k] = bf16_to_f32(row[k]);
  }
}

void CpuBackend::rmsnorm(const float* x, int n, int dim, int stride, const uint16_t* w, float eps, float* y) {
  pool_.parallel_for(
      n,
      [&](int64_t r0, int64_t r1, int) {
        for (int64_t r = r0; r < r1; r++) {
          const float* xr = x + r * stride;
          float* yr = y + r * stride;
          // Eight independent partial sums: one running double sum is a chain of dependent adds
          // (about 4 cycles each), which on the decode path cost more than the vector work.
          double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
          int k = 0;
          for (; k + 8 <= dim; k += 8)
            for (int j = 0; j < 8; j++) part[j] += static_cast<double>(xr[k + j]) * xr[k + j];
          for (; k < dim; k++) part[k % 8] += static_cast<double>(xr[k]) * xr[k];
          const double ss = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
          const float inv = static_cast<float>(1.0 / std::sqrt(ss / dim + eps));
          for (int k = 0; k < dim; k++) yr[k] = xr[k] * inv * bf16_to_f32(w[k]);
        }
      },
      16);
}

void CpuBackend::rope(float* x, int n, int n_heads, int row_stride, int head_stride, int rope_dim, const int32_t* pos,
                      const float* inv_freq) {
  const int half = rope_dim / 2;
  // Prefill's rows in parallel (the double-precision sin/cos dominate); a decode row runs inline.
  pool_.parallel_for(
      n,
      [&](int64_t r0, int64_t r1, int) {
        for (int64_t r = r0; r < r1; r++) {
          for (int i = 0; i < half; i++) {
            const double angle = static_cast<double>(pos[r]) * inv_freq[i];
            const float c = static_cast<float>(std::cos(angle)), s = static_cast<float>(std::sin(angle));
            for (int h = 0; h < n_heads; h++) {
              float* p = x + static_cast<size_t>(r) * row_stride + static_cast<size_t>(h) * head_stride + 2 * i;
              const float a = p[0], b = p[1];
              p[0] = a * c - b * s;
              p[1] = a * s + b * c;
            }
          }
        }
      },
      16);
}

void CpuBackend::router_topk(const RouterArgs& a) {
  const int E = a.n_experts;
  if (a.top_k > E || a.top_k <= 0) throw std::invalid_argument("router_topk: top_k " + std::to_string(a.top_k) + " vs " + std::to_string(E) + " experts");
  if (a.n_group <= 0 || E % a.n_group != 0) throw std::invalid_argument("router_topk: n_group must divide n_experts");
  // Tokens are independent: prefill's run in parallel, each chunk with its own scratch.
  pool_.parallel_for(
      a.n_tokens, [&](int64_t t0, int64_t t1, int) { route_tokens(a, static_cast<int>(t0), static_cast<int>(t1)); }, 16);
}

void CpuBackend::route_tokens(const RouterArgs& a, int t0, int t1) {
  const int E = a.n_experts;
  std::vector<float> score(E), sel(E);
  std::vector<int> order(E);
  for (int t = t0; t < t1; t++) {
    const float* lg = a.logits + static_cast<size_t>(t) * E;
    for (int e = 0; e < E; e++) {
      score[e] = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(lg[e]))));
      sel[e] = score[e] + (a.bias ? a.bias[e] : 0.0f);
    }
    if (a.n_group > 1) {
      // Keep the topk_group groups whose two best selection scores sum highest.
      const int per = E / a.n_group;
      std::vector<std::pair<float, int>> gs(a.n_group);
      for (int g = 0; g < a.n_group; g++) {
        float b1 = -INFINITY, b2 = -INFINITY;
        for (int e = g * per; e < (g + 1) * per; e++) {
          if (sel[e] > b1) {
            b2 = b1;
            b1 = sel[e];
          } else if (sel[e] > b2) {
            b2 = sel[e];
          }
        }
        gs[g] = {per >= 2 ? b1 + b2 : b1, g};
      }
      std::stable_sort(gs.begin(), gs.end(), [](auto& x, auto& y) { return x.first > y.first; });
      std::vector<char> keep(a.n_group, 0);
      for (int i = 0; i < a.topk_group && i < a.n_group; i++) keep[gs[i].second] = 1;
      for (int e = 0; e < E; e++)
        if (!keep[e / per]) sel[e] = -INFINITY;
    }
    for (int e = 0; e < E; e++) order[e] = e;
    std::partial_sort(order.begin(), order.begin() + a.top_k, order.end(), [&](int x, int y) {
      return sel[x] > sel[y] || (sel[x] == sel[y] && x < y);
    });
    double sum = 0;
    for (int j = 0; j < a.top_k; j++) sum += score[order[j]];
    for (int j = 0; j < a.top_k; j++) {
      const int e = order[j];
      double w = score[e];
      if (a.norm_topk_prob && sum > 0) w /= sum;
      a.expert_ids[static_cast<size_t>(t) * a.top_k + j] = e;
      a.weights[static_cast<size_t>(t) * a.top_k + j] = static_cast<float>(w * a.routed_scaling_factor);
    }
  }
}

void CpuBackend::swiglu(const float* gate, const float* up, int n, int dim, float* out) {
  const int64_t total = static_cast<int64_t>(n) * dim;
  // Split only when there is enough work (prefill) to pay for waking the pool.
  pool_.parallel_for(
      total,
      [&](int64_t i0, int64_t i1, int) {
        for (int64_t i = i0; i < i1; i++) {
          const float g = gate[i];
          out[i] = g / (1.0f + std::exp(-g)) * up[i];
        }
      },
      16384);
}

void CpuBackend::add(float* y, const float* x, size_t n) {
  pool_.parallel_for(
      static_cast<int64_t>(n),
      [&](int64_t i0, int64_t i1, int) {
        for (int64_t i = i0; i < i1; i++) y[i] += x[i];
      },
      65536);
}

void CpuBackend::kv_append(const float* kv, int n, int row_stride, int kv_lora, int rope_dim, float* cache_c, float* cache_pe,
                           int start) {
  for (int i = 0; i < n; i++) {
    const float* row = kv + static_cast<size_t>(i) * row_stride;
    std::memcpy(cache_c + static_cast<size_t>(start + i) * kv_lora, row, sizeof(float) * kv_lora);
    std::memcpy(cache_pe + static_cast<size_t>(start + i) * rope_dim, row + kv_lora, sizeof(float) * rope_dim);
  }
}

// Decode's down pass (a few token rows per expert: a pure weight stream). Each expert's matrix is
// cut into a few long row ranges handed out in order like the gate/up units, so a thread streams
// long stretches of one expert. The prefill split (every thread a slice of the output across all
// experts) gave each thread, on the benchmark model, 64 calls of 112 rows (27 KB) per layer, each
// starting its stream cold. Measured on the benchmark model's decode: the down pass 30-33 →
// 37-39 GB/s; decode +2.7% in fast mode (24 pairs), +4.5% in exact mode (16 pairs; in-process
// A/B). Several threads now produce the same output rows, so the products land in a buffer per
// group row and are added to `out` afterwards, in group order: the result is bit for bit the same
// whichever thread ran which piece. Returns false (nothing done) when that buffer would be big.
bool CpuBackend::moe_down_by_expert(int dim, int inter, const MoeGroup* groups, int n_groups, int total, float* out, bool fast,
                                    const Q16Rows& qh) {
  constexpr int kMaxRows = 64;
  if (total > kMaxRows) return false;
  if (down_y_.size() < static_cast<size_t>(total) * dim) down_y_.resize(static_cast<size_t>(total) * dim);
  const int64_t pieces = std::max<int64_t>(1, (pool_.size() * kStreamChunksPerThread + n_groups - 1) / n_groups);
  const int piece_rows = static_cast<int>(((dim + pieces - 1) / pieces + kPanelRows - 1) / kPanelRows * kPanelRows);
  const int per_group = (dim + piece_rows - 1) / piece_rows;
  pool_.parallel_for(
      static_cast<int64_t>(n_groups) * per_group,
      [&](int64_t u0, int64_t u1, int) {
        for (int64_t u = u0; u < u1; u++) {
          const int g = static_cast<int>(u / per_group);
          const int d0 = static_cast<int>(u % per_group) * piece_rows, d1 = std::min(dim, d0 + piece_rows);
          const MoeGroup& G = groups[g];
          float* y = &down_y_[static_cast<size_t>(moe_offset_[g]) * dim];
          if (fast)
            k_.int4_q16_rows(qh.row(moe_offset_[g]), G.n_rows, G.expert->down, y, dim, d0, d1);
          else
            k_.int4_rows(&moe_h_[static_cast<size_t>(moe_offset_[g]) * inter], G.n_rows, G.expert->down, y, dim, d0, d1);
        }
      },
      1);
  for (int g = 0; g < n_groups; g++)
    for (int j = 0; j < groups[g].n_rows; j++)
      k_.axpy(groups[g].weights[j], &down_y_[static_cast<size_t>(moe_offset_[g] + j) * dim], out + static_cast<size_t>(groups[g].rows[j]) * dim, dim);
  return true;
}

void CpuBackend::moe_experts(const float* x, int dim, int inter, const MoeGroup* groups, int n_groups, float* out) {
  moe(x, dim, inter, groups, n_groups, out, nullptr, 0, nullptr);
}

void CpuBackend::moe_experts_with(const float* x, int dim, int inter, const MoeGroup* groups, int n_groups, float* out,
                                  const float* with_x, int with_n, const Bf16Product& with) {
  moe(x, dim, inter, groups, n_groups, out, with_x, with_n, &with);
}

void CpuBackend::moe(const float* x, int dim, int inter, const MoeGroup* groups, int n_groups, float* out, const float* with_x,
                     int with_n, const Bf16Product* with) {
  if (dim % 32 != 0 || inter % 32 != 0)
    throw std::invalid_argument("moe_experts: dim and inter must be multiples of 32 (INT4 groups)");
  std::vector<int>& offset = moe_offset_;
  offset.assign(std::max(n_groups, 0) + 1, 0);
  for (int g = 0; g < n_groups; g++) offset[g + 1] = offset[g] + groups[g].n_rows;
  const int total = n_groups > 0 ? offset[n_groups] : 0;
  if (total == 0) {
    if (with) matmul_bf16(with_x, with_n, with->w, with->y);
    return;
  }
  const bool fast = mode_ == CpuMode::fast;
  // Gather each group's token rows so the kernels see contiguous activations.
  if (moe_x_.size() < static_cast<size_t>(total) * dim) moe_x_.resize(static_cast<size_t>(total) * dim);
  if (moe_h_.size() < static_cast<size_t>(total) * inter) {
    moe_h_.resize(static_cast<size_t>(total) * inter);
    moe_u_.resize(static_cast<size_t>(total) * inter);
  }
  for (int g = 0; g < n_groups; g++)
    for (int j = 0; j < groups[g].n_rows; j++)
      std::memcpy(&moe_x_[static_cast<size_t>(offset[g] + j) * dim], x + static_cast<size_t>(groups[g].rows[j]) * dim,
                  sizeof(float) * dim);
  // Only the groups too small for the GEMM use int16 activations.
  const bool any_q16 = fast && std::any_of(groups, groups + n_groups, [&](const MoeGroup& g) { return !int4_gemm_pays(g.n_rows); });
  Q16Rows qx, qh;
  std::vector<int>& qx_row = moe_qx_row_;
  qx_row.assign(n_groups, 0);
  if (any_q16) qx = quantize_groups(moe_x_.data(), dim, groups, offset.data(), n_groups, 0, qx_row.data());

  // gate and up: each group's weight rows are cut into units of about equal cost (rows × tokens),
  // so an expert that most of the chunk chose does not end up in one thread's share.
  struct Unit {
    int g, r0, r1;
  };
  std::vector<Unit> units;
  const int64_t total_cost = static_cast<int64_t>(total) * inter;
  const int64_t max_rows = std::max_element(groups, groups + n_groups, [](const MoeGroup& a, const MoeGroup& b) { return a.n_rows < b.n_rows; })->n_rows;
  const int64_t target = std::max<int64_t>(1, total_cost / (static_cast<int64_t>(pool_.size()) * chunks_per_thread(static_cast<int>(max_rows))));
  for (int g = 0; g < n_groups; g++) {
    int64_t rows = std::max<int64_t>(16, target / std::max(1, groups[g].n_rows));
    rows = (rows + 15) / 16 * 16;  // whole GEMM panels
    for (int r = 0; r < inter; r += static_cast<int>(rows)) units.push_back({g, r, static_cast<int>(std::min<int64_t>(inter, r + rows))});
  }
  // The extra BF16 product (the shared expert's down projection) rides along as units of its own
  // (g = -1), each about as long as a routed unit: in bytes while the work is a weight stream (a
  // BF16 weight is 2 bytes per multiply-add, an INT4 one with its scales 9/16), in multiply-adds
  // when it is compute.
  if (with && with->w.rows > 0) {
    const Bf16Matrix& w = with->w;
    const double routed_macs = static_cast<double>(target) * 2.0 * dim;  // gate + up rows of one unit
    const bool stream = with_n <= kStreamTokens && max_rows <= kStreamTokens;
    const double per_row = static_cast<double>(w.cols) * (stream ? 2.0 / (9.0 / 16.0) : std::max(1, with_n));
    int64_t rows = std::max<int64_t>(16, static_cast<int64_t>(routed_macs / per_row));
    rows = (rows + 15) / 16 * 16;
    for (int r = 0; r < w.rows; r += static_cast<int>(rows)) units.push_back({-1, r, static_cast<int>(std::min<int64_t>(w.rows, r + rows))});
  }
  const Bf16RowsFn with_fn = with_n >= kGemmMinBf16 ? k_.bf16_gemm : k_.bf16_rows;
  pool_.parallel_for(
      static_cast<int64_t>(units.size()),
      [&](int64_t u0, int64_t u1, int) {
        for (int64_t u = u0; u < u1; u++) {
          const int g = units[u].g, r0 = units[u].r0, r1 = units[u].r1;
          if (g < 0) {
            with_fn(with_x, with_n, with->w, with->y, with->w.rows, r0, r1);
            continue;
          }
          const MoeGroup& G = groups[g];
          float* h = &moe_h_[static_cast<size_t>(offset[g]) * inter];
          float* up = &moe_u_[static_cast<size_t>(offset[g]) * inter];
          if (int4_gemm_pays(G.n_rows)) {
            const float* xg = &moe_x_[static_cast<size_t>(offset[g]) * dim];
            k_.int4_gemm(xg, G.n_rows, G.expert->gate, h, inter, r0, r1);
            k_.int4_gemm(xg, G.n_rows, G.expert->up, up, inter, r0, r1);
          } else if (fast) {
            Q16Rows q = qx.row(qx_row[g]);
            k_.int4_q16_rows(q, G.n_rows, G.expert->gate, h, inter, r0, r1);
            k_.int4_q16_rows(q, G.n_rows, G.expert->up, up, inter, r0, r1);
          } else {
            const float* xg = &moe_x_[static_cast<size_t>(offset[g]) * dim];
            k_.int4_rows(xg, G.n_rows, G.expert->gate, h, inter, r0, r1);
            k_.int4_rows(xg, G.n_rows, G.expert->up, up, inter, r0, r1);
          }
          for (int j = 0; j < G.n_rows; j++)
            for (int r = r0; r < r1; r++) {
              float& hv = h[static_cast<size_t>(j) * inter + r];
              hv = hv / (1.0f + std::exp(-hv)) * up[static_cast<size_t>(j) * inter + r];
            }
        }
      },
      1);
  if (any_q16) qh = quantize_groups(moe_h_.data(), inter, groups, offset.data(), n_groups, 1);

  if (max_rows <= kStreamTokens && moe_down_by_expert(dim, inter, groups, n_groups, total, out, fast, qh)) return;
  // down: each thread owns a slice of the output dimensions across all groups, so the weighted
  // accumulation into `out` needs no atomics even when a token appears in several groups.
  for_panels(dim, static_cast<int>(max_rows), [&](int d0, int d1) {
        thread_local std::vector<float> tmp;
        const int width = static_cast<int>(d1 - d0);
        for (int g = 0; g < n_groups; g++) {
          const MoeGroup& G = groups[g];
          if (tmp.size() < static_cast<size_t>(G.n_rows) * width) tmp.resize(static_cast<size_t>(G.n_rows) * width);
          // The kernels write y[t*ldy + r] for r in [d0, d1): shift the base so row d0 lands at tmp[0].
          float* y = tmp.data() - d0;
          if (int4_gemm_pays(G.n_rows)) {
            k_.int4_gemm(&moe_h_[static_cast<size_t>(offset[g]) * inter], G.n_rows, G.expert->down, y, width, d0, d1);
          } else if (fast) {
            k_.int4_q16_rows(qh.row(offset[g]), G.n_rows, G.expert->down, y, width, d0, d1);
          } else {
            k_.int4_rows(&moe_h_[static_cast<size_t>(offset[g]) * inter], G.n_rows, G.expert->down, y, width, d0, d1);
          }
          for (int j = 0; j < G.n_rows; j++) {
            float* o = out + static_cast<size_t>(G.rows[j]) * dim + d0;
            k_.axpy(G.weights[j], tmp.data() + static_cast<size_t>(j) * width, o, width);
          }
        }
      });
}

}  // namespace k2
