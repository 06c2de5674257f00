// Per-call f32 scratch for the decode kernels: on the stack up to N floats, on the heap beyond.
// The kernels run hundreds of times per token; a thread_local buffer costs a __tls_get_addr call
// on every entry in a shared library (measured at ~3% of decode).
#pragma once

#include <cstddef>
#include <vector>

namespace k2 {

template <size_t N>
class ScratchFloats {
 public:
  explicit ScratchFloats(size_t n) {
    if (n > N) {
      heap_.resize(n);
      p_ = heap_.data();
    }
  }
  ScratchFloats(const ScratchFloats&) = delete;
  ScratchFloats& operator=(const ScratchFloats&) = delete;
  float* data() { return p_; }

 private:
  alignas(32) float local_[N];
  std::vector<float> heap_;
  float* p_ = local_;
};

}  // namespace k2
