#include "runtime/memory_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend/cpu/simd_avx2.h"
#include "runtime/thread_pool.h"

namespace k2 {

namespace {

uint64_t read_scalar(const uint8_t* p, size_t n) {
  uint64_t acc = 0;
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v;
    std::memcpy(&v, p + i, 8);
    acc ^= v;
  }
  return acc;
}

#if defined(__x86_64__)
K2_AVX2_BEGIN
uint64_t read_avx2(const uint8_t* p, size_t n) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 128 <= n; i += 128) {
    a0 = _mm256_xor_si256(a0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i)));
    a1 = _mm256_xor_si256(a1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 32)));
    a2 = _mm256_xor_si256(a2, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 64)));
    a3 = _mm256_xor_si256(a3, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 96)));
  }
  __m256i a = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
  alignas(32) uint64_t out[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(out), a);
  return out[0] ^ out[1] ^ out[2] ^ out[3] ^ read_scalar(p + i, n - i);
}
K2_AVX2_END
#endif

#if defined(__x86_64__)
bool have_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
}
#endif

}  // namespace

uint64_t stream_read(const uint8_t* p, size_t n) {
#if defined(__x86_64__)
  if (have_avx2()) return read_avx2(p, n);
#endif
  return read_scalar(p, n);
}

double measure_memory_bandwidth(size_t bytes, int threads) {
  if (bytes < (1u << 20)) throw std::invalid_argument("measureMemoryBandwidth: need at least 1 MiB, got " + std::to_string(bytes));
  if (threads <= 0) throw std::invalid_argument("measureMemoryBandwidth: threads must be positive");
  std::vector<uint8_t> buf(bytes);
  for (size_t i = 0; i < bytes; i += 4096) buf[i] = static_cast<uint8_t>(i >> 12);  // fault every page in
  ThreadPool pool(threads);
  std::vector<uint64_t> sink(threads, 0);
  double best = 0;
  for (int pass = 0; pass < 5; pass++) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.run([&](int t) {
      const size_t b = bytes * t / threads / 64 * 64, e = t + 1 == threads ? bytes : bytes * (t + 1) / threads / 64 * 64;
      sink[t] ^= stream_read(buf.data() + b, e - b);
    });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, bytes / s / 1e9);
  }
  // Keep the reads observable so the compiler cannot drop them.
  volatile uint64_t keep = 0;
  for (uint64_t v : sink) keep = keep ^ v;
  (void)keep;
  return best;
}

}  // namespace k2
