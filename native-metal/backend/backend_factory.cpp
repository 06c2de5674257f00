#include "backend/backend_factory.h"

#include <stdexcept>
#include <thread>

#include "backend/cpu/cpu_backend.h"
#include "backend/metal_dispatch/metal_dispatch_backend.h"

namespace k2 {

int default_thread_count() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

std::unique_ptr<Backend> make_backend(const std::string& name, int threads, CpuMode cpu_mode) {
  if (threads <= 0) threads = default_thread_count();
  if (name == "cpu") return std::make_unique<CpuBackend>(threads, cpu_mode);
  if (name == "metal-emu") return std::make_unique<MetalDispatchBackend>(make_emu_device());
#if defined(K2_WITH_METAL)
  if (name == "metal") return std::make_unique<MetalDispatchBackend>(make_mtl_device());
  throw std::invalid_argument("unknown backend \"" + name + "\" (available: cpu, metal, metal-emu)");
#else
  throw std::invalid_argument("unknown backend \"" + name + "\" (available: cpu, metal-emu; metal needs a macOS build)");
#endif
}

}  // namespace k2
