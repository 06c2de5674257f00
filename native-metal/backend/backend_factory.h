// Creates a backend by name. "cpu" everywhere; "metal-emu" (the Metal kernels run on the CPU
// harness) and "metal" (macOS) are added here by their owners.
#pragma once

#include <memory>
#include <string>

#include "backend/backend.h"

namespace k2 {

// threads <= 0 means one per online core. Unknown names throw std::invalid_argument naming them.
std::unique_ptr<Backend> make_backend(const std::string& name, int threads, CpuMode cpu_mode);

int default_thread_count();

}  // namespace k2
