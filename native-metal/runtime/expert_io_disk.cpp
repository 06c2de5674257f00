#include "runtime/expert_io_disk.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

namespace k2 {

void drop_file_cache(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
#if !defined(__APPLE__)
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
#endif
  ::close(fd);
}

double measure_sequential_read(const std::string& path, uint64_t max_bytes, int threads) {
  drop_file_cache(path);
  int flags = O_RDONLY | O_CLOEXEC;
#if defined(O_DIRECT) && !defined(__APPLE__)
  flags |= O_DIRECT;
#endif
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
#if defined(__APPLE__)
  ::fcntl(fd, F_NOCACHE, 1);
#endif
  struct stat st;
  ::fstat(fd, &st);
  constexpr uint64_t kChunk = 8u << 20;
  const uint64_t total = std::min<uint64_t>(max_bytes, static_cast<uint64_t>(st.st_size)) / kChunk * kChunk;
  if (total == 0) {
    ::close(fd);
    throw std::runtime_error(path + ": too small to measure read bandwidth (needs 8 MiB)");
  }
  threads = std::max(1, threads);
  std::atomic<uint64_t> next{0}, done{0};
  std::atomic<int> err{0};
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; t++)
    pool.emplace_back([&] {
      void* buf = ::mmap(nullptr, kChunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (buf == MAP_FAILED) {
        err = ENOMEM;
        return;
      }
      for (;;) {
        const uint64_t off = next.fetch_add(kChunk);
        if (off >= total) break;
        const ssize_t r = ::pread(fd, buf, kChunk, static_cast<off_t>(off));
        if (r <= 0) {
          err = r < 0 ? errno : EIO;
          break;
        }
        done += static_cast<uint64_t>(r);
      }
      ::munmap(buf, kChunk);
    });
  for (std::thread& t : pool) t.join();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::close(fd);
  if (err) throw std::runtime_error(path + ": read failed while measuring bandwidth: " + std::strerror(err.load()));
  drop_file_cache(path);
  return static_cast<double>(done.load()) / s / 1e9;
}

}  // namespace k2
