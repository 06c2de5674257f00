// lru: evict the resident key whose last access is oldest. O(1) per operation.
#include "runtime/expert_cache_policy_kinds.h"
#include "runtime/expert_cache_policy_recency_list.h"

namespace k2 {

namespace {

class LruPolicy final : public KeyedPolicy {
 public:
  explicit LruPolicy(uint32_t n) : KeyedPolicy(n), list_(n) {}

  void on_access(uint32_t k) override {
    check(k, "on_access");
    if (list_.contains(k)) list_.touch(k);
  }
  void on_insert(uint32_t k) override {
    check(k, "on_insert");
    resident_[k] = 1;
    if (!pinned_[k]) list_.touch(k);
  }
  void on_evict(uint32_t k) override {
    check(k, "on_evict");
    resident_[k] = 0;
    list_.remove(k);
  }
  void set_pinned(uint32_t k, bool pinned) override {
    check(k, "set_pinned");
    pinned_[k] = pinned;
    if (pinned)
      list_.remove(k);
    else if (resident_[k] && !list_.contains(k))
      list_.push_front(k);  // no better recency is known: treat as just used
  }
  bool choose_victim(const std::function<bool(uint32_t)>& evictable, uint32_t* victim) override {
    for (uint32_t k = list_.back(); k != RecencyList::kNone; k = list_.newer(k))
      if (evictable(k)) {
        *victim = k;
        return true;
      }
    return false;
  }

 private:
  RecencyList list_;
};

}  // namespace

std::unique_ptr<EvictionPolicy> make_lru_policy(uint32_t n_keys) { return std::make_unique<LruPolicy>(n_keys); }

}  // namespace k2
