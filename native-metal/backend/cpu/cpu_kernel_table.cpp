#include <cstdlib>
#include <cstring>

#include "backend/cpu/cpu_kernels.h"

namespace k2 {

const CpuKernels& cpu_kernels_scalar() {
  static const CpuKernels k = [] {
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
  }();
  return k;
}

const CpuKernels& cpu_kernels() {
  static const CpuKernels k = [] {
    CpuKernels t = cpu_kernels_scalar();
    const char* force = std::getenv("K2_CPU_ISA");
    if (force && std::strcmp(force, "scalar") == 0) return t;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
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
    }
#elif defined(__aarch64__)
    t.isa = "neon";
    t.bf16_rows = bf16_rows_neon;
    t.int4_rows = int4_rows_neon;
    t.bf16_gemm = bf16_rows_neon;
    t.int4_gemm = int4_rows_neon;
    t.dot = dot_neon;
    t.axpy = axpy_neon;
#endif
    return t;
  }();
  return k;
}

}  // namespace k2
