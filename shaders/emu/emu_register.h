// K2_EMU_KERNEL(name): registers a kernel compiled from .metal source with the harness under its
// name. It adapts the kernel's parameter list (buffer(0..n-1), then the fixed position tail
// described in emu_runtime.h) to KernelEntry. Used by the kernels_*.cpp wrappers (C++17).
#pragma once

#include <cstddef>
#include <utility>

#include "emu_runtime.h"

namespace msl_emu {

// Registration helper: adapts a kernel's parameter list (buffers..., fixed position tail) to KernelEntry.
template <typename T>
struct BufferArg;
template <typename T>
struct BufferArg<T*> {
  static T* get(void* p) { return static_cast<T*>(p); }
};
template <typename T>
struct BufferArg<T&> {
  static T& get(void* p) { return *static_cast<T*>(p); }
};

constexpr int kPositionParams = 5;

template <typename P, size_t I, size_t NB>
struct ArgFor {
  static decltype(auto) get(void* const* b, const ThreadPos& p) {
    if constexpr (I < NB) {
      return BufferArg<P>::get(b[I]);
    } else if constexpr (I == NB) {
      return P(p.tg[0], p.tg[1], p.tg[2]);
    } else if constexpr (I == NB + 1) {
      return P(p.tid);
    } else if constexpr (I == NB + 2) {
      return P(p.ntg, 1, 1);  // threads_per_threadgroup: 1-D threadgroups
    } else if constexpr (I == NB + 3) {
      return P(p.simd);
    } else {
      return P(p.lane);
    }
  }
};

template <typename... P, size_t... I>
void call_kernel(void (*fn)(P...), void* const* b, const ThreadPos& p, std::index_sequence<I...>) {
  constexpr size_t NB = sizeof...(P) - kPositionParams;
  fn(ArgFor<P, I, NB>::get(b, p)...);
}

template <typename F>
struct Arity;
template <typename... P>
struct Arity<void (*)(P...)> {
  static constexpr int value = sizeof...(P);
};

template <auto Fn>
void kernel_entry(void* const* b, const ThreadPos& p) {
  call_kernel(Fn, b, p, std::make_index_sequence<Arity<decltype(Fn)>::value>());
}

struct Registrar {
  Registrar(const char* name, KernelEntry e, int arity) { register_kernel({name, e, arity - kPositionParams}); }
};

}  // namespace msl_emu

#define K2_EMU_KERNEL(name) \
  static ::msl_emu::Registrar k2_emu_reg_##name(#name, &::msl_emu::kernel_entry<&name>, ::msl_emu::Arity<decltype(&name)>::value);
