// Streaming-read bandwidth of this machine, measured with the same vector loads the matmul
// kernels use; the bench reports decode bandwidth as a fraction of it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace k2 {

// GB/s (1e9 bytes/s) of a multithreaded read of a `bytes` buffer, best of several passes.
double measure_memory_bandwidth(size_t bytes, int threads);

// One streaming read of p[0, n) on the calling thread with the same loads (AVX2 where available);
// returns a value derived from every byte so the reads cannot be dropped.
uint64_t stream_read(const uint8_t* p, size_t n);

}  // namespace k2
