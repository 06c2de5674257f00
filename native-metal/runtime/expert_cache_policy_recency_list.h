// Intrusive doubly-linked list over dense keys (most recent at the front): O(1) touch, remove and
// oldest-first walk, no allocation after construction. Used by the lru and mix policies.
#pragma once

#include <cstdint>
#include <vector>

namespace k2 {

class RecencyList {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  explicit RecencyList(uint32_t n_keys) : prev_(n_keys, kNone), next_(n_keys, kNone), in_(n_keys, 0) {}

  bool contains(uint32_t k) const { return in_[k] != 0; }
  uint32_t size() const { return size_; }
  uint32_t back() const { return tail_; }
  // The key one step more recent than k (towards the front); kNone at the front.
  uint32_t newer(uint32_t k) const { return prev_[k]; }

  void push_front(uint32_t k) {
    prev_[k] = kNone;
    next_[k] = head_;
    if (head_ != kNone) prev_[head_] = k;
    head_ = k;
    if (tail_ == kNone) tail_ = k;
    in_[k] = 1;
    size_++;
  }

  void remove(uint32_t k) {
    if (!in_[k]) return;
    if (prev_[k] != kNone) next_[prev_[k]] = next_[k]; else head_ = next_[k];
    if (next_[k] != kNone) prev_[next_[k]] = prev_[k]; else tail_ = prev_[k];
    prev_[k] = next_[k] = kNone;
    in_[k] = 0;
    size_--;
  }

  void touch(uint32_t k) {
    remove(k);
    push_front(k);
  }

 private:
  std::vector<uint32_t> prev_, next_;
  std::vector<uint8_t> in_;
  uint32_t head_ = kNone, tail_ = kNone, size_ = 0;
};

}  // namespace k2
