// The MSL-on-CPU harness runtime: runs one compute dispatch of a kernel compiled from unchanged
// .metal source (through include/metal_stdlib) on the host, each threadgroup's threads as
// cooperative fibers. Threads run until a synchronisation point (threadgroup_barrier, a simd_*
// collective, a simdgroup_matrix op) and wait there until Metal's rules let them continue:
//   - threadgroup_barrier: every thread of the threadgroup at the same barrier; a thread that
//     returned before it, or threads at different barriers, are reported as errors;
//   - simdgroup collectives: every live lane of the simdgroup at the same call; lanes that
//     returned are inactive (Metal's semantics for a ragged tail), lanes elsewhere are an error.
// Kernels are registered by name (K2_EMU_KERNEL) so the dispatch layer can call them like a
// pipeline state. Position parameters: every kernel ends with the fixed tail
//   uint3 tgpig [[threadgroup_position_in_grid]], ushort tiitg [[thread_index_in_threadgroup]],
//   ushort3 ntg [[threads_per_threadgroup]], ushort sgitg [[simdgroup_index_in_threadgroup]],
//   ushort tiisg [[thread_index_in_simdgroup]]
// and buffer(i) is parameter i (lint_msl.mjs checks both).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace msl_emu {

constexpr int kSimdWidth = 32;
constexpr int kMaxThreadsPerThreadgroup = 1024;
constexpr int kSlotBytes = 16;  // largest value a simd collective exchanges (float4)

struct ThreadPos {
  uint32_t tg[3] = {0, 0, 0};
  uint16_t tid = 0, ntg = 0, simd = 0, lane = 0;
};

// A harness finding: a synchronisation rule of Metal was broken (names kernel, threadgroup, site).
class EmuError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Order in which runnable threads are resumed between synchronisation points. Kernels must give
// the same result under both; a missing barrier shows up as a difference (see test/metal).
enum class Schedule { forward, reverse };
// The schedule of dispatches issued through the emulated device (process-wide; tests flip it).
void set_device_schedule(Schedule s);
Schedule device_schedule();

using KernelEntry = void (*)(void* const* buffers, const ThreadPos& pos);

struct KernelInfo {
  const char* name = nullptr;
  KernelEntry entry = nullptr;
  int n_buffers = 0;
};

void register_kernel(const KernelInfo& k);
// nullptr when no kernel has that name.
const KernelInfo* find_kernel(const std::string& name);

struct Dispatch {
  const KernelInfo* kernel = nullptr;
  void* const* buffers = nullptr;  // n_buffers entries; buffer(i) of the kernel
  uint32_t grid[3] = {1, 1, 1};    // threadgroups per grid
  int threads = 1;                 // threads per threadgroup (1-D)
  Schedule schedule = Schedule::forward;
};

// Runs every threadgroup of the dispatch to completion; throws EmuError on a broken rule.
void run_dispatch(const Dispatch& d);

// ---- called by the compatibility header from inside a kernel (i.e. on a fiber) ----

// The calling thread's position.
const ThreadPos& current_pos();
void threadgroup_barrier_at(const char* file, int line);
// Deposits this lane's value (<= kSlotBytes), waits for the simdgroup, and returns the table of
// all lanes' values (kSimdWidth slots of kSlotBytes) and the mask of lanes that took part.
const unsigned char* simd_exchange(const void* value, size_t bytes, const char* what, const char* file, int line,
                                   uint32_t* active_mask);
// For a collective whose result every lane computes identically (simdgroup_matrix ops): storage
// for that result shared by the simdgroup, and whether the caller is the first lane to ask for
// it after its last simd_exchange (it computes; the others copy). Up to kSharedResultBytes.
constexpr int kSharedResultBytes = 1024;
unsigned char* simd_shared_result(bool* first);

}  // namespace msl_emu
