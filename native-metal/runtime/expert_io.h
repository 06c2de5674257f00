// Reads one expert tensor from its shard into an expert-cache slot, bypassing the page cache so
// the OS does not hold a second copy of bytes the cache already holds.
//
// pread: one request per tensor (an expert's rows are contiguous per tensor). On Linux the file is
//   opened O_DIRECT and the read covers the tensor's 4 KiB-aligned span (the tensor then starts at
//   offset % 4096 inside the slot region, the same alignment the mmapped view had); where O_DIRECT
//   is refused, a buffered read followed by posix_fadvise(DONTNEED). On macOS F_NOCACHE + F_RDADVISE.
// mmap: memcpy from a private mapping of the shard, then madvise(DONTNEED) on the source pages
//   and posix_fadvise(DONTNEED) so neither this process nor the page cache keeps them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace k2 {

enum class ExpertIoMode { Pread, Mmap };

// Parses "pread" | "mmap"; throws std::invalid_argument naming the value otherwise.
ExpertIoMode parse_expert_io_mode(const std::string& name);
const char* expert_io_mode_name(ExpertIoMode mode);

// A read that failed or came back short: names the shard, the byte range and the cause.
class ExpertIoError : public std::runtime_error {
 public:
  ExpertIoError(const std::string& path, uint64_t offset, uint64_t nbytes, const std::string& cause);
  const std::string path;
  const uint64_t offset;
  const uint64_t nbytes;
};

constexpr size_t kIoAlign = 4096;

// Bytes a slot region must have to receive a tensor of `nbytes` at any file offset.
inline size_t io_region_bytes(uint64_t nbytes) { return (nbytes + kIoAlign - 1) / kIoAlign * kIoAlign + kIoAlign; }

class ShardReader {
 public:
  ShardReader(const std::vector<std::string>& files, ExpertIoMode mode);
  ~ShardReader();
  ShardReader(const ShardReader&) = delete;
  ShardReader& operator=(const ShardReader&) = delete;

  // Reads [offset, offset + nbytes) of files[file] into `region` (kIoAlign-aligned, at least
  // io_region_bytes(nbytes) long) and returns where the tensor's first byte landed. Thread-safe.
  // Throws ExpertIoError.
  const uint8_t* read(int file, uint64_t offset, uint64_t nbytes, uint8_t* region) const;
  ExpertIoMode mode() const { return mode_; }
  bool direct() const { return direct_; }

 private:
  struct Shard {
    std::string path;
    int fd = -1;           // O_DIRECT / F_NOCACHE when direct_
    int buffered_fd = -1;  // plain descriptor: fallback reads and fadvise
    const uint8_t* map = nullptr;
    size_t map_size = 0;
  };
  const uint8_t* read_pread(const Shard& s, uint64_t offset, uint64_t nbytes, uint8_t* region) const;
  const uint8_t* read_mmap(const Shard& s, uint64_t offset, uint64_t nbytes, uint8_t* region) const;

  ExpertIoMode mode_;
  bool direct_ = false;
  std::vector<Shard> shards_;
};

}  // namespace k2
