// lfu: evict the resident key with the lowest decayed access count. Counts are kept for every
// key, resident or not, so an expert that comes back keeps its history. O(log n) per operation.
#include "runtime/expert_cache_policy_decay.h"
#include "runtime/expert_cache_policy_kinds.h"
#include "runtime/expert_cache_policy_score_heap.h"

namespace k2 {

namespace {

class LfuDecayPolicy final : public KeyedPolicy {
 public:
  LfuDecayPolicy(uint32_t n, double half_life) : KeyedPolicy(n), freq_(n, half_life), heap_(n) {}

  void on_access(uint32_t k) override {
    check(k, "on_access");
    freq_.access(k);
    heap_.update(k, freq_.score(k));
  }
  void on_insert(uint32_t k) override {
    check(k, "on_insert");
    resident_[k] = 1;
    if (!pinned_[k] && !heap_.contains(k)) heap_.push(k, freq_.score(k));
  }
  void on_evict(uint32_t k) override {
    check(k, "on_evict");
    resident_[k] = 0;
    heap_.remove(k);
  }
  void on_token() override {
    const double f = freq_.tick();
    if (f != 1) heap_.rescale(f);
  }
  void set_pinned(uint32_t k, bool pinned) override {
    check(k, "set_pinned");
    pinned_[k] = pinned;
    if (pinned)
      heap_.remove(k);
    else if (resident_[k] && !heap_.contains(k))
      heap_.push(k, freq_.score(k));
  }
  bool choose_victim(const std::function<bool(uint32_t)>& evictable, uint32_t* victim) override {
    return heap_.min_where(evictable, victim);
  }

 private:
  DecayedFrequency freq_;
  ScoreHeap heap_;
};

}  // namespace

std::unique_ptr<EvictionPolicy> make_lfu_decay_policy(uint32_t n_keys, double half_life) {
  return std::make_unique<LfuDecayPolicy>(n_keys, half_life);
}

}  // namespace k2
