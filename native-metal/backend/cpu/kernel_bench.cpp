#include "backend/cpu/kernel_bench.h"

#include <time.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

#include "backend/cpu/cpu_kernels.h"
#include "runtime/memory_bandwidth.h"

namespace k2 {

namespace {

double thread_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double best_of(int reps, const std::function<void()>& fn) {
  double best = 1e30;
  for (int i = 0; i < reps; i++) {
    const double t0 = thread_cpu_seconds();
    fn();
    best = std::min(best, thread_cpu_seconds() - t0);
  }
  return best;
}

// Deterministic bytes (xorshift): the kernels' speed does not depend on the values, only the
// values must be finite.
struct Rng {
  uint64_t s = 0x9E3779B97F4A7C15ull;
  uint32_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return static_cast<uint32_t>(s >> 16);
  }
};

}  // namespace

std::vector<KernelRate> bench_cpu_kernels(int reps, const std::string& isa) {
  if (reps < 1) throw std::invalid_argument("benchCpuKernels: reps must be >= 1, got " + std::to_string(reps));
  const CpuKernels* named = isa.empty() ? &cpu_kernels() : cpu_kernels_named(isa.c_str());
  if (!named) throw std::invalid_argument("benchCpuKernels: kernel tier " + isa + " does not run on this CPU");
  const CpuKernels& k = *named;
  // The benchmark model's hidden size; 64 MB of BF16 and 46 MB of INT4 rows: far past any cache.
  const int K = 1792, G = K / 32;
  const int bf16_rows = 18432, int4_rows = 46080, hot_rows = 256, hot_iters = 100, gemm_tokens = 48;
  Rng rng;
  std::vector<uint16_t> wb(static_cast<size_t>(bf16_rows) * K);
  for (auto& v : wb) v = static_cast<uint16_t>(0x3C00 + (rng.next() & 0xFF) - 128);  // |w| ~ 2^-7..2^-8
  std::vector<uint32_t> packed(static_cast<size_t>(int4_rows) * K / 8);
  for (auto& v : packed) v = rng.next();
  std::vector<uint16_t> scales(static_cast<size_t>(int4_rows) * G);
  for (auto& v : scales) v = static_cast<uint16_t>(0x3C00 + (rng.next() & 0x3F));
  std::vector<float> x(static_cast<size_t>(gemm_tokens) * K);
  for (auto& v : x) v = static_cast<float>(rng.next() % 2001) / 1000.0f - 1.0f;
  std::vector<float> y(static_cast<size_t>(std::max(bf16_rows, int4_rows)) * gemm_tokens);
  Q16Rows q;
  q.cols = K;
  q16_shape(k, K, q.row_elems, q.row_groups);
  std::vector<int16_t> qs(static_cast<size_t>(gemm_tokens) * q.row_elems);
  std::vector<float> qd(static_cast<size_t>(gemm_tokens) * q.row_groups), qsum(static_cast<size_t>(gemm_tokens) * q.row_groups);
  q.qs = qs.data();
  q.d = qd.data();
  q.dsum8 = qsum.data();
  k.quantize_q16(x.data(), gemm_tokens, K, q, 0);

  const Bf16Matrix B{wb.data(), bf16_rows, K}, Bhot{wb.data(), hot_rows, K};
  const Int4Matrix I{packed.data(), scales.data(), int4_rows, K}, Ihot{packed.data(), scales.data(), hot_rows, K};
  const double bf16_bytes = 2.0 * bf16_rows * K, int4_bytes = int4_rows * (K / 2.0 + 2.0 * G);
  const double hot_bf16 = 2.0 * hot_rows * K * hot_iters, hot_int4 = hot_rows * (K / 2.0 + 2.0 * G) * hot_iters;
  const double expert_rows = 480;  // one benchmark-model expert projection
  const Int4Matrix E{packed.data(), scales.data(), static_cast<int>(expert_rows), K};
  const Bf16Matrix Bg{wb.data(), 1024, K};
  volatile uint64_t sink = 0;
  std::vector<KernelRate> out;
  auto add = [&](const char* name, double bytes, double macs, bool cold, const std::function<void()>& fn) {
    fn();  // warm: page in, fill caches for the hot runs
    out.push_back({name, bytes, macs, best_of(reps, fn), cold});
  };
  add("stream read (bf16 buffer)", bf16_bytes, 0, true, [&] { sink = sink ^ stream_read(reinterpret_cast<const uint8_t*>(wb.data()), wb.size() * 2); });
  add("bf16 matvec", bf16_bytes, static_cast<double>(bf16_rows) * K, true, [&] { k.bf16_rows(x.data(), 1, B, y.data(), bf16_rows, 0, bf16_rows); });
  add("stream read (int4 buffer)", int4_bytes, 0, true, [&] {
    sink = sink ^ stream_read(reinterpret_cast<const uint8_t*>(packed.data()), packed.size() * 4) ^
           stream_read(reinterpret_cast<const uint8_t*>(scales.data()), scales.size() * 2);
  });
  add("int4 matvec exact", int4_bytes, static_cast<double>(int4_rows) * K, true, [&] { k.int4_rows(x.data(), 1, I, y.data(), int4_rows, 0, int4_rows); });
  add("int4 matvec fast", int4_bytes, static_cast<double>(int4_rows) * K, true, [&] { k.int4_q16_rows(q, 1, I, y.data(), int4_rows, 0, int4_rows); });
  add("bf16 matvec (L2)", hot_bf16, static_cast<double>(hot_rows) * K * hot_iters, false, [&] {
    for (int i = 0; i < hot_iters; i++) k.bf16_rows(x.data(), 1, Bhot, y.data(), hot_rows, 0, hot_rows);
  });
  add("int4 matvec exact (L2)", hot_int4, static_cast<double>(hot_rows) * K * hot_iters, false, [&] {
    for (int i = 0; i < hot_iters; i++) k.int4_rows(x.data(), 1, Ihot, y.data(), hot_rows, 0, hot_rows);
  });
  add("int4 matvec fast (L2)", hot_int4, static_cast<double>(hot_rows) * K * hot_iters, false, [&] {
    for (int i = 0; i < hot_iters; i++) k.int4_q16_rows(q, 1, Ihot, y.data(), hot_rows, 0, hot_rows);
  });
  for (int n : {4, 8}) {
    const std::string tag = std::to_string(n) + " tokens x expert";
    add(("int4 exact, " + tag).c_str(), 0, n * expert_rows * K, false, [&] { k.int4_rows(x.data(), n, E, y.data(), 480, 0, 480); });
    add(("int4 fast, " + tag).c_str(), 0, n * expert_rows * K, false, [&] { k.int4_q16_rows(q, n, E, y.data(), 480, 0, 480); });
  }
  add("bf16 gemm, 48 tokens", 0, gemm_tokens * 1024.0 * K, false, [&] { k.bf16_gemm(x.data(), gemm_tokens, Bg, y.data(), 1024, 0, 1024); });
  add("int4 gemm, 48 tokens x expert", 0, gemm_tokens * expert_rows * K, false, [&] { k.int4_gemm(x.data(), gemm_tokens, E, y.data(), 480, 0, 480); });
  return out;
}

}  // namespace k2
