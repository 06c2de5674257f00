// Which kernels run: each ISA tier is a table built on the previous one, replacing what it does
// better. The best tier the CPU reports is the default; K2_CPU_ISA caps it (to compare tiers or
// to rule a tier out), and cpu_kernels_named() hands any runnable tier to tests and benchmarks.
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend/cpu/cpu_kernels.h"

namespace k2 {

namespace {

CpuKernels scalar_table() {
  CpuKernels t;
  t.isa = "scalar";
  t.bf16_rows = bf16_rows_scalar;
  t.int4_rows = int4_rows_scalar;
  t.bf16_gemm = bf16_rows_scalar;
  t.int4_gemm = int4_rows_scalar;
  t.int4_q16_rows = int4_q16_rows_scalar;
  t.quantize_q16 = quantize_q16_scalar;
  t.dot = dot_scalar;
  t.axpy = axpy_scalar;
  t.dot_bf16 = dot_bf16_scalar;
  t.axpy_bf16 = axpy_bf16_scalar;
  t.dot_rows = dot_rows_scalar;
  t.axpy_rows = axpy_rows_scalar;
  return t;
}

#if defined(__x86_64__)
bool cpu_has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

bool cpu_has_avx512() {
  __builtin_cpu_init();
  return cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vnni");
}

CpuKernels avx2_table() {
  CpuKernels t = scalar_table();
  t.isa = "avx2";
  t.bf16_rows = bf16_rows_avx2;
  t.int4_rows = int4_rows_avx2;
  t.bf16_gemm = bf16_gemm_avx2;
  t.int4_gemm = int4_gemm_avx2;
  t.int4_q16_rows = int4_q16_rows_avx2;
  t.quantize_q16 = quantize_q16_avx2;
  t.dot = dot_avx2;
  t.axpy = axpy_avx2;
  t.dot_bf16 = dot_bf16_avx2;
  t.axpy_bf16 = axpy_bf16_avx2;
  t.dot_rows = dot_rows_avx2;
  t.axpy_rows = axpy_rows_avx2;
  t.mla_rows = mla_rows_avx2;
  return t;
}

CpuKernels avx512_table() {
  CpuKernels t = avx2_table();
  t.isa = "avx512";
  t.int4_rows = int4_rows_avx512;
  t.int4_q16_rows = int4_q16_rows_vnni_avx512;
  t.mla_rows = mla_rows_avx512;
  t.quantize_q16 = quantize_q16_vnni_avx512;
  t.q16_elem_align = 128;  // whole 4-group blocks (int4_vnni_avx512.cpp)
  t.q16_group_align = 16;  // scales are read 16 groups at a time
  return t;
}
#endif

#if defined(__aarch64__)
CpuKernels neon_table() {
  CpuKernels t = scalar_table();
  t.isa = "neon";
  t.bf16_rows = bf16_rows_neon;
  t.int4_rows = int4_rows_neon;
  t.bf16_gemm = bf16_rows_neon;
  t.int4_gemm = int4_rows_neon;
  t.dot = dot_neon;
  t.axpy = axpy_neon;
  t.dot_bf16 = dot_bf16_neon;
  t.axpy_bf16 = axpy_bf16_neon;
  t.dot_rows = dot_rows_neon;
  t.axpy_rows = axpy_rows_neon;
  t.int4_q16_rows = int4_q16_rows_neon;  // with quantize_q16_scalar's layout (alignment 1)
  t.mla_rows = mla_rows_neon;
  return t;
}
#endif

struct Tiers {
  std::vector<CpuKernels> tables;  // runnable on this CPU, best last
  std::vector<const char*> names;
};

const Tiers& tiers() {
  static const Tiers t = [] {
    Tiers r;
    r.tables.push_back(scalar_table());
#if defined(__x86_64__)
    if (cpu_has_avx2()) r.tables.push_back(avx2_table());
    if (cpu_has_avx512()) r.tables.push_back(avx512_table());
#elif defined(__aarch64__)
    r.tables.push_back(neon_table());
#endif
    for (const CpuKernels& k : r.tables) r.names.push_back(k.isa);
    return r;
  }();
  return t;
}

}  // namespace

const CpuKernels& cpu_kernels_scalar() { return tiers().tables.front(); }

const CpuKernels* cpu_kernels_named(const char* isa) {
  for (const CpuKernels& k : tiers().tables)
    if (std::strcmp(k.isa, isa) == 0) return &k;
  return nullptr;
}

const char* const* cpu_kernel_isas(int* count) {
  *count = static_cast<int>(tiers().names.size());
  return tiers().names.data();
}

// Rank of a tier name in the order tiers supersede each other; -1 for an unknown name.
static int tier_rank(const char* isa) {
  static const char* const order[] = {"scalar", "avx2", "avx512", "neon"};
  for (int i = 0; i < 4; i++)
    if (std::strcmp(isa, order[i]) == 0) return i;
  return -1;
}

const CpuKernels& cpu_kernels() {
  static const CpuKernels* k = [] {
    const Tiers& t = tiers();
    const char* cap = std::getenv("K2_CPU_ISA");
    if (!cap || !*cap) return &t.tables.back();
    // A cap names a tier; the best runnable tier at or below it is used (avx512 on an AVX2-only
    // CPU runs avx2).
    const int cap_rank = tier_rank(cap);
    if (cap_rank < 0)
      throw std::invalid_argument(std::string("K2_CPU_ISA=") + cap + ": unknown kernel tier (use scalar, avx2, avx512 or neon)");
    const CpuKernels* best = &t.tables.front();
    for (const CpuKernels& tier : t.tables)
      if (tier_rank(tier.isa) <= cap_rank) best = &tier;
    return best;
  }();
  return *k;
}

}  // namespace k2
