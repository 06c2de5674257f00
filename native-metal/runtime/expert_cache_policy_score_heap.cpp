#include "runtime/expert_cache_policy_score_heap.h"

#include <queue>

namespace k2 {

void ScoreHeap::push(uint32_t k, double score) {
  score_[k] = score;
  heap_.push_back(k);
  pos_[k] = static_cast<uint32_t>(heap_.size() - 1);
  sift_up(heap_.size() - 1);
}

void ScoreHeap::remove(uint32_t k) {
  const uint32_t i = pos_[k];
  if (i == kNone) return;
  const uint32_t last = heap_.back();
  heap_.pop_back();
  pos_[k] = kNone;
  if (last == k) return;
  place(i, last);
  sift_up(i);
  sift_down(pos_[last]);
}

void ScoreHeap::update(uint32_t k, double score) {
  const uint32_t i = pos_[k];
  if (i == kNone) return;
  const double old = score_[k];
  score_[k] = score;
  if (score < old)
    sift_up(i);
  else
    sift_down(i);
}

void ScoreHeap::rescale(double f) {
  for (uint32_t k : heap_) score_[k] *= f;
  // Tiny scores can underflow to equal zeros, whose tie order (by key) differs: re-heapify, O(n).
  for (size_t i = heap_.size() / 2; i-- > 0;) sift_down(i);
}

void ScoreHeap::sift_up(size_t i) {
  const uint32_t k = heap_[i];
  while (i > 0) {
    const size_t p = (i - 1) / 2;
    if (!less(k, heap_[p])) break;
    place(i, heap_[p]);
    i = p;
  }
  place(i, k);
}

void ScoreHeap::sift_down(size_t i) {
  const uint32_t k = heap_[i];
  const size_t n = heap_.size();
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && less(heap_[c + 1], heap_[c])) c++;
    if (!less(heap_[c], k)) break;
    place(i, heap_[c]);
    i = c;
  }
  place(i, k);
}

bool ScoreHeap::min_where(const std::function<bool(uint32_t)>& ok, uint32_t* out) const {
  if (heap_.empty()) return false;
  if (ok(heap_[0])) {
    *out = heap_[0];
    return true;
  }
  // Best-first walk: a refused node's children are the next candidates.
  auto worse = [this](uint32_t a, uint32_t b) { return less(heap_[b], heap_[a]); };
  std::priority_queue<uint32_t, std::vector<uint32_t>, decltype(worse)> frontier(worse);
  auto push_children = [&](uint32_t i) {
    for (size_t c = 2 * static_cast<size_t>(i) + 1; c <= 2 * static_cast<size_t>(i) + 2 && c < heap_.size(); c++)
      frontier.push(static_cast<uint32_t>(c));
  };
  push_children(0);
  while (!frontier.empty()) {
    const uint32_t i = frontier.top();
    frontier.pop();
    if (ok(heap_[i])) {
      *out = heap_[i];
      return true;
    }
    push_children(i);
  }
  return false;
}

}  // namespace k2
