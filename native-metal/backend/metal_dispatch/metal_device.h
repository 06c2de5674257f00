// The one thing the Metal dispatch layer needs from below: memory the kernels can reach and
// kernel launches in issue order. Two implementations: metal/ (metal-cpp on macOS: MTLBuffers,
// pipeline states, one command buffer per sync) and metal_emu/ (the same .metal kernels compiled
// into the addon and run by the CPU harness in shaders/emu). Everything above this line —
// which kernel, which buffers, grid and threadgroup sizes, order — is shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace k2 {

struct KernelLaunch {
  const char* kernel = nullptr;         // function name in the .metal sources
  const void* args = nullptr;           // parameter struct from shaders/kargs.h, bound at buffer(0)
  size_t args_bytes = 0;
  const void* const* buffers = nullptr; // bound at buffer(1..n_buffers); each from alloc() or registered memory (or null)
  int n_buffers = 0;
  uint32_t grid[3] = {1, 1, 1};         // threadgroups
  int threads = 1;                      // threads per threadgroup (1-D)
};

class MetalDevice {
 public:
  virtual ~MetalDevice() = default;
  virtual std::string name() const = 0;
  // Zeroed, 16 KiB-aligned memory that both the host and the kernels address.
  virtual void* alloc(size_t bytes) = 0;
  virtual void free(void* p) = 0;
  // Host memory (mmapped weights, expert-cache slots) kernels may read without a copy.
  virtual void register_host_memory(const void* base, size_t bytes) {}
  virtual void unregister_host_memory(const void* base) {}
  // Issues a launch after every launch issued before it.
  virtual void launch(const KernelLaunch& l) = 0;
  // Waits for every issued launch; their writes are then visible to the host.
  virtual void sync() = 0;
};

std::unique_ptr<MetalDevice> make_emu_device();
#if defined(K2_WITH_METAL)
std::unique_ptr<MetalDevice> make_mtl_device();
#endif

}  // namespace k2
