// mix (frequency + recency): a resident key accessed within the last `window` tokens sits in a
// recency list and is protected, up to `window_share` of the resident keys; older keys compete
// by decayed access count, as in lfu. The victim is the least-counted old key; only when every
// old key is refused does the oldest recent key go. Routing has both kinds of locality: consecutive tokens reuse experts (recency)
// and some experts are popular all along (frequency). O(log n) per operation, plus O(1) per key
// aging out of the window at on_token.
#include "runtime/expert_cache_policy_decay.h"
#include "runtime/expert_cache_policy_kinds.h"
#include "runtime/expert_cache_policy_recency_list.h"
#include "runtime/expert_cache_policy_score_heap.h"

namespace k2 {

namespace {

class FreqRecencyPolicy final : public KeyedPolicy {
 public:
  FreqRecencyPolicy(uint32_t n, double half_life, uint32_t window, double window_share)
      : KeyedPolicy(n), freq_(n, half_life), old_(n), recent_(n), last_(n, 0), window_(window), window_share_(window_share) {
    if (!(window_share >= 0 && window_share <= 1))
      throw std::invalid_argument("eviction policy mix: window share must be 0..1, got " + std::to_string(window_share));
  }

  void on_access(uint32_t k) override {
    check(k, "on_access");
    freq_.access(k);
    last_[k] = tick_;
    if (candidate(k)) make_recent(k);
  }
  void on_insert(uint32_t k) override {
    check(k, "on_insert");
    if (!resident_[k]) n_resident_++;
    resident_[k] = 1;
    // Inserted without an access (a prefetch): it is expected soon, so it starts as recent.
    last_[k] = tick_;
    if (!pinned_[k]) make_recent(k);
  }
  void on_evict(uint32_t k) override {
    check(k, "on_evict");
    if (resident_[k]) n_resident_--;
    resident_[k] = 0;
    old_.remove(k);
    recent_.remove(k);
  }
  void on_token() override {
    tick_++;
    const double f = freq_.tick();
    if (f != 1) old_.rescale(f);
    for (uint32_t k = recent_.back(); k != RecencyList::kNone && tick_ - last_[k] > window_; k = recent_.back()) age(k);
  }
  void set_pinned(uint32_t k, bool pinned) override {
    check(k, "set_pinned");
    pinned_[k] = pinned;
    if (pinned) {
      old_.remove(k);
      recent_.remove(k);
    } else if (resident_[k] && !old_.contains(k) && !recent_.contains(k)) {
      last_[k] = tick_;  // no better recency is known: treat as just used, like lru
      make_recent(k);
    }
  }
  bool choose_victim(const std::function<bool(uint32_t)>& evictable, uint32_t* victim) override {
    if (old_.min_where(evictable, victim)) return true;
    for (uint32_t k = recent_.back(); k != RecencyList::kNone; k = recent_.newer(k))
      if (evictable(k)) {
        *victim = k;
        return true;
      }
    return false;
  }

 private:
  void make_recent(uint32_t k) {
    old_.remove(k);
    recent_.touch(k);
    const double cap = window_share_ * n_resident_;
    while (recent_.size() > 1 && recent_.size() > cap) age(recent_.back());
  }
  void age(uint32_t k) {
    recent_.remove(k);
    old_.push(k, freq_.score(k));
  }

  DecayedFrequency freq_;
  ScoreHeap old_;        // resident, unpinned, last access older than the window
  RecencyList recent_;   // resident, unpinned, accessed within the window (newest first)
  std::vector<uint64_t> last_;
  uint64_t tick_ = 0;
  uint32_t window_;
  double window_share_;
  uint64_t n_resident_ = 0;
};

}  // namespace

std::unique_ptr<EvictionPolicy> make_freq_recency_policy(uint32_t n_keys, double half_life, uint32_t window, double window_share) {
  return std::make_unique<FreqRecencyPolicy>(n_keys, half_life, window, window_share);
}

}  // namespace k2
