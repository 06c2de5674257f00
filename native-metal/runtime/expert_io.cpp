#include "runtime/expert_io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace k2 {

ExpertIoMode parse_expert_io_mode(const std::string& name) {
  if (name == "pread") return ExpertIoMode::Pread;
  if (name == "mmap") return ExpertIoMode::Mmap;
  throw std::invalid_argument("expert io \"" + name + "\" is not pread or mmap");
}

const char* expert_io_mode_name(ExpertIoMode mode) { return mode == ExpertIoMode::Pread ? "pread" : "mmap"; }

ExpertIoError::ExpertIoError(const std::string& p, uint64_t off, uint64_t n, const std::string& cause)
    : std::runtime_error("expert read failed: " + p + " at offset " + std::to_string(off) + " (+" + std::to_string(n) + " bytes): " + cause),
      path(p), offset(off), nbytes(n) {}

namespace {

uint64_t current_size(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_size);
}

std::string short_read(uint64_t got, uint64_t wanted, int fd) {
  return "short read: got " + std::to_string(got) + " of " + std::to_string(wanted) + " bytes; the file is now " +
         std::to_string(current_size(fd)) + " bytes (truncated or replaced while running?)";
}

// pread until `n` bytes or end of file; returns bytes read or -errno.
int64_t pread_full(int fd, uint8_t* dst, uint64_t n, uint64_t offset) {
  uint64_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd, dst + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (r == 0) break;
    done += static_cast<uint64_t>(r);
  }
  return static_cast<int64_t>(done);
}

}  // namespace

ShardReader::ShardReader(const std::vector<std::string>& files, ExpertIoMode mode) : mode_(mode) {
  direct_ = mode == ExpertIoMode::Pread;
  try {
    for (const std::string& path : files) {
      Shard s;
      s.path = path;
      s.buffered_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (s.buffered_fd < 0) throw ExpertIoError(path, 0, 0, std::string("cannot open: ") + std::strerror(errno));
      if (mode == ExpertIoMode::Pread) {
#if defined(__APPLE__)
        s.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (s.fd >= 0) ::fcntl(s.fd, F_NOCACHE, 1);
#elif defined(O_DIRECT)
        s.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECT);
#endif
        // Filesystems without direct I/O (tmpfs, some overlays) refuse O_DIRECT: buffered + fadvise.
        if (s.fd < 0) direct_ = false;
      } else {
        const uint64_t size = current_size(s.buffered_fd);
        if (size > 0) {
          void* p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, s.buffered_fd, 0);
          if (p == MAP_FAILED) throw ExpertIoError(path, 0, size, std::string("cannot mmap: ") + std::strerror(errno));
          s.map = static_cast<const uint8_t*>(p);
          s.map_size = size;
        }
      }
      shards_.push_back(s);
    }
  } catch (...) {
    for (Shard& s : shards_) {
      if (s.fd >= 0) ::close(s.fd);
      if (s.buffered_fd >= 0) ::close(s.buffered_fd);
      if (s.map) ::munmap(const_cast<uint8_t*>(s.map), s.map_size);
    }
    throw;
  }
  if (!direct_)
    for (Shard& s : shards_)
      if (s.fd >= 0) {
        ::close(s.fd);
        s.fd = -1;
      }
}

ShardReader::~ShardReader() {
  for (Shard& s : shards_) {
    if (s.fd >= 0) ::close(s.fd);
    if (s.buffered_fd >= 0) ::close(s.buffered_fd);
    if (s.map) ::munmap(const_cast<uint8_t*>(s.map), s.map_size);
  }
}

const uint8_t* ShardReader::read(int file, uint64_t offset, uint64_t nbytes, uint8_t* region) const {
  if (file < 0 || file >= static_cast<int>(shards_.size()))
    throw ExpertIoError("<shard " + std::to_string(file) + ">", offset, nbytes, "no such shard");
  const Shard& s = shards_[file];
  return mode_ == ExpertIoMode::Pread ? read_pread(s, offset, nbytes, region) : read_mmap(s, offset, nbytes, region);
}

const uint8_t* ShardReader::read_pread(const Shard& s, uint64_t offset, uint64_t nbytes, uint8_t* region) const {
  const uint64_t head = offset % kIoAlign;
  if (s.fd >= 0) {
    const uint64_t start = offset - head;
    const uint64_t span = (head + nbytes + kIoAlign - 1) / kIoAlign * kIoAlign;
#if defined(__APPLE__)
    struct radvisory ra;
    ra.ra_offset = static_cast<off_t>(start);
    ra.ra_count = static_cast<int>(span);
    ::fcntl(s.fd, F_RDADVISE, &ra);
#endif
    // The aligned span may run past the end of the file; only the tensor's bytes must arrive.
    const int64_t r = pread_full(s.fd, region, span, start);
    if (r < 0) throw ExpertIoError(s.path, offset, nbytes, std::strerror(static_cast<int>(-r)));
    if (static_cast<uint64_t>(r) < head + nbytes) throw ExpertIoError(s.path, offset, nbytes, short_read(r > int64_t(head) ? r - head : 0, nbytes, s.fd));
    return region + head;
  }
  const int64_t r = pread_full(s.buffered_fd, region + head, nbytes, offset);
  if (r < 0) throw ExpertIoError(s.path, offset, nbytes, std::strerror(static_cast<int>(-r)));
  if (static_cast<uint64_t>(r) < nbytes) throw ExpertIoError(s.path, offset, nbytes, short_read(r, nbytes, s.buffered_fd));
#if !defined(__APPLE__)
  ::posix_fadvise(s.buffered_fd, static_cast<off_t>(offset), static_cast<off_t>(nbytes), POSIX_FADV_DONTNEED);
#endif
  return region + head;
}

const uint8_t* ShardReader::read_mmap(const Shard& s, uint64_t offset, uint64_t nbytes, uint8_t* region) const {
  const uint64_t head = offset % kIoAlign;
  // Touching a mapped page past the end of a file that shrank is SIGBUS: check the size first.
  const uint64_t size = current_size(s.buffered_fd);
  if (offset + nbytes > size || offset + nbytes > s.map_size)
    throw ExpertIoError(s.path, offset, nbytes, short_read(size > offset ? size - offset : 0, nbytes, s.buffered_fd));
  std::memcpy(region + head, s.map + offset, nbytes);
  // The fault handler maps up to 64 KiB of cached pages around each fault ("fault-around"), so
  // unmap the whole 64 KiB-aligned window, or neighbours of the tensor stay resident.
  const uint64_t window = 64 * 1024;
  const uint64_t first = offset / window * window;
  const uint64_t last = (offset + nbytes + window - 1) / window * window;
  ::madvise(const_cast<uint8_t*>(s.map) + first, std::min<uint64_t>(last, s.map_size) - first, MADV_DONTNEED);
#if !defined(__APPLE__)
  ::posix_fadvise(s.buffered_fd, static_cast<off_t>(offset), static_cast<off_t>(nbytes), POSIX_FADV_DONTNEED);
#endif
  return region + head;
}

}  // namespace k2
