// Disk facts the expert bench needs: dropping a file from the page cache (a cold start) and this
// disk's sequential read bandwidth, measured with large direct reads like the expert cache's.
#pragma once

#include <cstdint>
#include <string>

namespace k2 {

// posix_fadvise(DONTNEED) over the whole file (macOS: F_NOCACHE has no eviction call; a no-op
// there). Throws std::runtime_error naming the file if it cannot be opened.
void drop_file_cache(const std::string& path);

// GB/s (1e9 bytes/s) reading up to `max_bytes` of `path` from its start in 8 MiB direct reads by
// `threads` threads; the file is dropped from the page cache first.
double measure_sequential_read(const std::string& path, uint64_t max_bytes, int threads);

}  // namespace k2
