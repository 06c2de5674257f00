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

// Activations quantized to int16 per group of 32 for the fast mode: integer dot products
// (AVX2 madd_epi16) against the INT4 weights, one float multiply per group. int16 rather than
// llama.cpp's int8 (Q8_0): measured on the K2 golden fixture, int8 activations move logits by
// up to 0.08 and flip an argmax, int16 by ~4e-4, at nearly the same instruction count.
// Within a group the values are stored in the order the INT4 nibbles unpack to without shuffles
// (low nibble = even element, high = odd): with e_i = element 2i and o_i = element 2i+1,
//   [e0..e7, o0..o7, e8..e15, o8..o15]   (q16_slot() gives the slot of element i).
//
// The byte layout of qs belongs to the kernel set that quantized it (CpuKernels pairs a quantizer
// with its kernel): the AVX-512 VNNI set stores each int16 as a signed high byte and an unsigned
// low byte in dot-product order and pads rows to whole 128-element blocks (int4_vnni_avx512.cpp).
// Rows are row_elems int16 slots (qs) and row_groups floats (d, dsum8) apart; padding is zero.
struct Q16Rows {
  int16_t* qs = nullptr;    // [n, row_elems] (group-permuted)
  float* d = nullptr;       // [n, row_groups] scale: x ≈ d * q
  float* dsum8 = nullptr;   // [n, row_groups] 8 * d * Σq: removes the +8 offset of unsigned nibbles
  int cols = 0;
  int row_elems = 0;
  int row_groups = 0;

  Q16Rows row(int r) const {
    return Q16Rows{qs + static_cast<size_t>(r) * row_elems, d + static_cast<size_t>(r) * row_groups,
                   dsum8 + static_cast<size_t>(r) * row_groups, cols, row_elems, row_groups};
  }
};

inline int q16_slot(int i) {
  const int m = i / 2;
  return (m < 8 ? m : m + 8) + (i & 1) * 8;
}

inline float bf16_to_f32(uint16_t v) {
  uint32_t bits = static_cast<uint32_t>(v) << 16;
  float f;
  __builtin_memcpy(&f, &bits, 4);
  return f;
}

using Bf16RowsFn = void (*)(const float* x, int n, const Bf16Matrix& w, float* y, int ldy, int r0, int r1);
using Int4RowsFn = void (*)(const float* x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1);
using Int4Q16RowsFn = void (*)(const Q16Rows& x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1);
using QuantizeQ16Fn = void (*)(const float* x, int n, int cols, Q16Rows& out, int row0);
using DotFn = float (*)(const float* a, const float* b, int n);
using AxpyFn = void (*)(float a, const float* x, float* y, int n);
using DotBf16Fn = float (*)(const uint16_t* w, const float* x, int n);
// out[r] = q · rows[r] for n_rows consecutive rows of len floats.
using DotRowsFn = void (*)(const float* q, const float* rows, int n_rows, int len, float* out);
// y += Σ_r coef[r] · rows[r].
using AxpyRowsFn = void (*)(const float* coef, const float* rows, int n_rows, int len, float* y);
using AxpyBf16Fn = void (*)(float a, const uint16_t* w, float* y, int n);

// Online-softmax state of one attention head over the cache rows seen so far (FlashAttention
// style): m = the largest score, l = Σ exp(s − m).
struct SoftmaxState {
  float m;
  double l;
};

// Absorbed MLA attention of n_heads queries over a stretch of the latent cache: scores
// q_lat[h]·c + q_pe[h]·pe of each row, online softmax into st[h], o[h] += exp(s − m)·c.
struct MlaRowsArgs {
  const float* q_lat = nullptr;     // [n_heads, kv_lora] queries with W_uk absorbed
  const float* q_pe = nullptr;      // head h's rope part at q_pe + h * q_pe_stride
  int q_pe_stride = 0;
  const float* cache_c = nullptr;   // [ctx, kv_lora]
  const float* cache_pe = nullptr;  // [ctx, rope_dim]
  int n_heads = 0, kv_lora = 0, rope_dim = 0;
  float scale = 1.0f;
  SoftmaxState* st = nullptr;  // [n_heads]
  float* o = nullptr;          // [n_heads, kv_lora]
};
// Most heads an MlaRowsFn takes (DeepSeek-V3 has 128, K2 64); more go to the generic path.
constexpr int kMaxMlaHeads = 128;
using MlaRowsFn = void (*)(const MlaRowsArgs& a, int c0, int c1);

struct CpuKernels {
  const char* isa = "scalar";
  // Q16Rows padding of quantize_q16 / int4_q16_rows: row_elems and row_groups are cols and
  // cols/32 rounded up to these multiples.
  int q16_elem_align = 1;
  int q16_group_align = 1;
  Bf16RowsFn bf16_rows = nullptr;
  Int4RowsFn int4_rows = nullptr;
  // Many token rows (prefill): weights converted once per panel and reused across tokens.
  Bf16RowsFn bf16_gemm = nullptr;
  Int4RowsFn int4_gemm = nullptr;
  Int4Q16RowsFn int4_q16_rows = nullptr;
  QuantizeQ16Fn quantize_q16 = nullptr;
  DotFn dot = nullptr;
  AxpyFn axpy = nullptr;
  DotBf16Fn dot_bf16 = nullptr;
  AxpyBf16Fn axpy_bf16 = nullptr;
  DotRowsFn dot_rows = nullptr;
  AxpyRowsFn axpy_rows = nullptr;
  // Cache rows [c0, c1) for all heads at once (AVX2, AVX-512, NEON); null: the backend composes
  // dot_rows / axpy_rows.
  MlaRowsFn mla_rows = nullptr;
};

// The best kernels this CPU supports; K2_CPU_ISA=scalar|avx2|avx512 caps the choice.
const CpuKernels& cpu_kernels();
const CpuKernels& cpu_kernels_scalar();
// The kernel set of one ISA tier by name ("scalar", "avx2", "avx512", "neon"), or null when this
// CPU (or build) cannot run it: lets tests and benchmarks compare tiers in one process.
const CpuKernels* cpu_kernels_named(const char* isa);
// Names of the tiers this CPU can run, best last.
const char* const* cpu_kernel_isas(int* count);

// A Q16Rows view over caller-owned buffers sized for n rows of cols under kernel set k.
inline void q16_shape(const CpuKernels& k, int cols, int& row_elems, int& row_groups) {
  const int G = cols / 32;
  row_elems = (cols + k.q16_elem_align - 1) / k.q16_elem_align * k.q16_elem_align;
  row_groups = (G + k.q16_group_align - 1) / k.q16_group_align * k.q16_group_align;
}

// scalar
void bf16_rows_scalar(const float* x, int n, const Bf16Matrix& w, float* y, int ldy, int r0, int r1);
void int4_rows_scalar(const float* x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1);
void int4_q16_rows_scalar(const Q16Rows& x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1);
void quantize_q16_scalar(const float* x, int n, int cols, Q16Rows& out, int row0);
float dot_scalar(const float* a, const float* b, int n);
void axpy_scalar(float a, const float* x, float* y, int n);
float dot_bf16_scalar(const uint16_t* w, const float* x, int n);
void axpy_bf16_scalar(float a, const uint16_t* w, float* y, int n);
void dot_rows_scalar(const float* q, const float* rows, int n_rows, int len, float* out);
void axpy_rows_scalar(const float* coef, const float* rows, int n_rows, int len, float* y);

#if defined(__x86_64__)
void bf16_rows_avx2(const float* x, int n, const Bf16Matrix& w, float* y, int ldy, int r0, int r1);
void int4_rows_avx2(const float* x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1);
void bf16_gemm_avx2(const float* x, int n, const Bf16Matrix& w, float* y, int ldy, int r0, int r1);
void int4_gemm_avx2(const float* x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1);
void quantize_q16_avx2(const float* x, int n, int cols, Q16Rows& out, int row0);
void int4_q16_rows_avx2(const Q16Rows& x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1);
float dot_avx2(const float* a, const float* b, int n);
void axpy_avx2(float a, const float* x, float* y, int n);
float dot_bf16_avx2(const uint16_t* w, const float* x, int n);
void axpy_bf16_avx2(float a, const uint16_t* w, float* y, int n);
void dot_rows_avx2(const float* q, const float* rows, int n_rows, int len, float* out);
void axpy_rows_avx2(const float* coef, const float* rows, int n_rows, int len, float* y);
void mla_rows_avx2(const MlaRowsArgs& a, int c0, int c1);
#endif

#if defined(__x86_64__)
// AVX-512 (F, BW, VL, DQ, VNNI): fast-mode INT4 through vpdpbusd, exact INT4 decode matvec, MLA
// attention over cache rows. BF16 stays on AVX2: an AVX-512 even/odd-split matvec measured no
// faster (the BF16 matvec is bound by memory, not instructions).
void quantize_q16_vnni_avx512(const float* x, int n, int cols, Q16Rows& out, int row0);
void int4_q16_rows_vnni_avx512(const Q16Rows& x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1);
void int4_rows_avx512(const float* x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1);
void mla_rows_avx512(const MlaRowsArgs& a, int c0, int c1);
#endif

#if defined(__aarch64__)
void bf16_rows_neon(const float* x, int n, const Bf16Matrix& w, float* y, int ldy, int r0, int r1);
void int4_rows_neon(const float* x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1);
float dot_neon(const float* a, const float* b, int n);
void axpy_neon(float a, const float* x, float* y, int n);
float dot_bf16_neon(const uint16_t* w, const float* x, int n);
void axpy_bf16_neon(float a, const uint16_t* w, float* y, int n);
void dot_rows_neon(const float* q, const float* rows, int n_rows, int len, float* out);
void axpy_rows_neon(const float* coef, const float* rows, int n_rows, int len, float* y);
void int4_q16_rows_neon(const Q16Rows& x, int n, const Int4Matrix& w, float* y, int ldy, int r0, int r1);
void mla_rows_neon(const MlaRowsArgs& a, int c0, int c1);
#endif

}  // namespace k2
