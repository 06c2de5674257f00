#include "backend/backend_factory.h"

#include <stdexcept>
#include <thread>

#include "backend/cpu/cpu_backend.h"

namespace k2 {

int default_thread_count() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

std::unique_ptr<Backend> make_backend(const std::string& name, int threads, CpuMode cpu_mode) {
  if (threads <= 0) threads = default_thread_count();
  if (name == "cpu") return std::make_unique<CpuBackend>(threads, cpu_mode);
  throw std::invalid_argument("unknown backend \"" + name + "\" (available: cpu)");
}

}  // namespace k2
