// Row-range kernels of the CPU backend. Each computes output rows [r0, r1) of y = x · wᵀ for all
// n token rows, so the backend can split a matmul across threads by weight rows (every thread
// streams a disjoint slice of the weights, the memory-bound part) while each weight row loaded
// into L1 is reused for every token row of the chunk.
//
// Implementations: *_scalar (portable reference), *_avx2 (x86-64 AVX2+FMA, compiled with a
// target attribute and chosen at run time), *_neon (arm64). cpu_kernel_table.cpp picks them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backend/backend.h"

namespace k2 {

// Activations quantized to int8 per group of 32 for the fast mode (llama.cpp Q8_0 style).
// Within each group the 32 values are stored even elements first, then odd elements, which is
// the order the INT4 nibbles come out of a 16-byte load (low nibbles = even, high = odd), so the
// integer dot product needs no shuffles.
struct Q8Rows {
  int8_t* qs = nullptr;     // [n, cols] (group-permuted)
  float* d = nullptr;       // [n, cols/32] scale: x ≈ d * q
  float* dsum8 = nullptr;   // [n, cols/32] 8 * d * Σq: removes the +8 offset of INT4 weights
  int cols = 0;
};

inline float bf16_to_f32(uint16_t v) {
  uint32_t bits = static_cast<uint32_t>(v) << 16;
  float f;
  __builtin_memcpy(&f, &bits, 4);
  return f;
}

using Bf16RowsFn = void (*)(const float* x, int n, const Bf16Matrix& w, float* y, int ldy, int r0, int r1);
using Int4RowsFn = void (*)(const float* x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1);
using Int4Q8RowsFn = void (*)(const Q8Rows& x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1);
using QuantizeQ8Fn = void (*)(const float* x, int n, int cols, Q8Rows& out, int row0);
using DotFn = float (*)(const float* a, const float* b, int n);
using AxpyFn = void (*)(float a, const float* x, float* y, int n);
using DotBf16Fn = float (*)(const uint16_t* w, const float* x, int n);
using AxpyBf16Fn = void (*)(float a, const uint16_t* w, float* y, int n);

struct CpuKernels {
  const char* isa = "scalar";
  Bf16RowsFn bf16_rows = nullptr;
  Int4RowsFn int4_rows = nullptr;
  Int4Q8RowsFn int4_q8_rows = nullptr;
  QuantizeQ8Fn quantize_q8 = nullptr;
  DotFn dot = nullptr;
  AxpyFn axpy = nullptr;
  DotBf16Fn dot_bf16 = nullptr;
  AxpyBf16Fn axpy_bf16 = nullptr;
};

// The best kernels this CPU supports (K2_CPU_ISA=scalar forces the portable ones).
const CpuKernels& cpu_kernels();
const CpuKernels& cpu_kernels_scalar();

// scalar
void bf16_rows_scalar(const float* x, int n, const Bf16Matrix& w, float* y, int ldy, int r0, int r1);
void int4_rows_scalar(const float* x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1);
void int4_q8_rows_scalar(const Q8Rows& x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1);
void quantize_q8_scalar(const float* x, int n, int cols, Q8Rows& out, int row0);
float dot_scalar(const float* a, const float* b, int n);
void axpy_scalar(float a, const float* x, float* y, int n);
float dot_bf16_scalar(const uint16_t* w, const float* x, int n);
void axpy_bf16_scalar(float a, const uint16_t* w, float* y, int n);

#if defined(__x86_64__)
void bf16_rows_avx2(const float* x, int n, const Bf16Matrix& w, float* y, int ldy, int r0, int r1);
void int4_rows_avx2(const float* x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1);
void int4_q8_rows_avx2(const Q8Rows& x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1);
void quantize_q8_avx2(const float* x, int n, int cols, Q8Rows& out, int row0);
float dot_avx2(const float* a, const float* b, int n);
void axpy_avx2(float a, const float* x, float* y, int n);
float dot_bf16_avx2(const uint16_t* w, const float* x, int n);
void axpy_bf16_avx2(float a, const uint16_t* w, float* y, int n);
#endif

#if defined(__aarch64__)
void bf16_rows_neon(const float* x, int n, const Bf16Matrix& w, float* y, int ldy, int r0, int r1);
void int4_rows_neon(const float* x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1);
float dot_neon(const float* a, const float* b, int n);
void axpy_neon(float a, const float* x, float* y, int n);
#endif

}  // namespace k2
