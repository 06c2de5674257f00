// Indexed binary min-heap of dense keys by a double score (ties: smaller key first), so a key's
// score can change in O(log n) without allocation. Used by the lfu and mix policies.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace k2 {

class ScoreHeap {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  explicit ScoreHeap(uint32_t n_keys) : pos_(n_keys, kNone), score_(n_keys, 0) {}

  bool contains(uint32_t k) const { return pos_[k] != kNone; }
  uint32_t size() const { return static_cast<uint32_t>(heap_.size()); }

  void push(uint32_t k, double score);
  void remove(uint32_t k);
  void update(uint32_t k, double score);
  // Multiplies every score by f > 0 (rare: O(n)).
  void rescale(double f);
  // The lowest-scored key that `ok` accepts; visits only keys scored below it plus their
  // children. False when `ok` refuses every key.
  bool min_where(const std::function<bool(uint32_t)>& ok, uint32_t* out) const;

 private:
  bool less(uint32_t a, uint32_t b) const { return score_[a] < score_[b] || (score_[a] == score_[b] && a < b); }
  void place(size_t i, uint32_t k) {
    heap_[i] = k;
    pos_[k] = static_cast<uint32_t>(i);
  }
  void sift_up(size_t i);
  void sift_down(size_t i);

  std::vector<uint32_t> heap_;  // keys in heap order
  std::vector<uint32_t> pos_;   // key -> index in heap_, kNone when absent
  std::vector<double> score_;   // key -> score while in the heap
};

}  // namespace k2
