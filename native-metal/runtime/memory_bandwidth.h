// Streaming-read bandwidth of this machine, measured with the same vector loads the matmul
// kernels use; the bench reports decode bandwidth as a fraction of it.
#pragma once

#include <cstddef>

namespace k2 {

// GB/s (1e9 bytes/s) of a multithreaded read of a `bytes` buffer, best of several passes.
double measure_memory_bandwidth(size_t bytes, int threads);

}  // namespace k2
