#include "runtime/expert_cache.h"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace k2 {

namespace {

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

}  // namespace

uint64_t expert_slot_bytes(const ExpertLayout& layout) {
  for (const auto& e : layout.locs)
    if (e[0].file >= 0) {
      uint64_t n = 0;
      for (const ExpertTensorLoc& t : e) n += io_region_bytes(t.nbytes);
      return n;
    }
  return 0;
}

ExpertCache::ExpertCache(ExpertLayout layout, Backend& backend, const ExpertCacheOptions& opts)
    : layout_(std::move(layout)), backend_(backend), opts_(opts), reader_(layout_.files, opts.io) {
  slot_bytes_ = expert_slot_bytes(layout_);
  if (slot_bytes_ == 0) throw std::invalid_argument("expert cache: the model has no routed experts");
  const uint64_t n_slots = opts.capacity_bytes / slot_bytes_;
  if (n_slots < 1)
    throw std::invalid_argument("expert cache: " + std::to_string(opts.capacity_bytes) + " bytes hold no expert slot (one slot is " +
                                std::to_string(slot_bytes_) + " bytes)");
  const auto& first = *std::find_if(layout_.locs.begin(), layout_.locs.end(), [](const auto& e) { return e[0].file >= 0; });
  uint64_t off = 0;
  for (int t = 0; t < kExpertTensors; t++) {
    region_offset_[t] = off;
    off += io_region_bytes(first[t].nbytes);
  }
  // Whole 16 KiB pages: Apple Silicon's page size, which Metal's no-copy buffers require.
  constexpr uint64_t kPage = 16384;
  arena_bytes_ = static_cast<size_t>((n_slots * slot_bytes_ + kPage - 1) / kPage * kPage);
  // Reserved with a huge page's slack so the arena can start on a huge-page boundary (Linux):
  // decode streams every cached expert it uses, and on 4 KiB pages TLB misses cost a third of
  // its speed (docs/benchmarks.md). Advice only: without transparent huge pages nothing changes.
  constexpr size_t kHuge = 2u << 20;
  map_bytes_ = arena_bytes_ + kHuge;
  void* p = ::mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    throw std::runtime_error("expert cache: cannot reserve " + std::to_string(arena_bytes_) + " bytes for " + std::to_string(n_slots) + " slots");
  map_ = p;
  arena_ = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(p) + kHuge - 1) / kHuge * kHuge);
#if defined(MADV_HUGEPAGE)
  ::madvise(arena_, arena_bytes_, MADV_HUGEPAGE);
#endif
  backend_.register_host_memory(arena_, arena_bytes_);
  slots_.resize(n_slots);
  for (uint64_t i = 0; i < n_slots; i++) {
    slots_[i].mem = arena_ + i * slot_bytes_;
    free_.push_back(static_cast<int>(n_slots - 1 - i));
  }
  held_.resize(layout_.n_layers);
  prefetched_.resize(layout_.n_layers);
  requests_.assign(static_cast<size_t>(layout_.n_layers) * layout_.n_experts, 0);
  policy_ = make_eviction_policy(opts.policy, static_cast<uint32_t>(layout_.n_layers * layout_.n_experts));
  stats_.layers.resize(layout_.n_layers);
  stats_.capacity_bytes = arena_bytes_;
  io_ = std::make_unique<IoPool>(std::max(1, opts.io_threads));
}

ExpertCache::~ExpertCache() {
  io_.reset();  // finishes queued reads before their destination goes away
  backend_.unregister_host_memory(arena_);
  ::munmap(map_, map_bytes_);
}

void ExpertCache::check_ids(int layer, const int32_t* ids, int n) const {
  if (!layout_.has(layer)) throw std::out_of_range("expert cache: layer " + std::to_string(layer) + " has no routed experts");
  for (int i = 0; i < n; i++)
    if (ids[i] < 0 || ids[i] >= layout_.n_experts)
      throw std::out_of_range("expert cache: expert " + std::to_string(ids[i]) + " of layer " + std::to_string(layer));
}

int ExpertCache::max_acquire() const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::max(1, static_cast<int>(slots_.size()) - pinned_);
}

int ExpertCache::take_slot(bool for_prefetch) {
  if (!free_.empty()) {
    const int s = free_.back();
    free_.pop_back();
    return s;
  }
  uint32_t victim;
  auto evictable = [&](uint32_t key) {
    auto it = where_.find(key);
    if (it == where_.end()) return false;
    const Slot& s = slots_[it->second];
    // A guess must not push out another guess; a demand may.
    return (s.state == State::Ready || s.state == State::Failed) && s.refs == 0 && !s.pinned && !(for_prefetch && s.prefetched);
  };
  if (!policy_->choose_victim(evictable, &victim)) return -1;
  const int s = where_.at(victim);
  evict(s);
  free_.pop_back();  // evict() returned it to the free list
  return s;
}

void ExpertCache::evict(int s) {
  Slot& slot = slots_[s];
  where_.erase(slot.key);
  policy_->on_evict(slot.key);
  if (slot.state == State::Ready) stats_.resident_bytes -= layout_.expert_bytes();
  slot.state = State::Empty;
  slot.prefetched = slot.guess = false;
  slot.error.clear();
  free_.push_back(s);
}

void ExpertCache::start_load(int s, uint32_t key) {
  Slot& slot = slots_[s];
  slot.state = State::Loading;
  slot.key = key;
  slot.refs = 0;
  slot.pinned = false;
  slot.prefetched = slot.guess = false;
  slot.error.clear();
  where_[key] = s;
  policy_->on_insert(key);
  if (in_flight_++ == 0) busy_since_ = now_s();
  const auto& locs = layout_.locs[key];
  // Checkpoints sort tensors by name, so an expert's six tensors usually sit together in one
  // shard (with only its small shape tensors between them): then one read loads the whole expert.
  uint64_t lo = locs[0].offset, hi = locs[0].offset + locs[0].nbytes;
  bool one_file = true;
  for (const ExpertTensorLoc& t : locs) {
    lo = std::min(lo, t.offset);
    hi = std::max(hi, t.offset + t.nbytes);
    one_file = one_file && t.file == locs[0].file;
  }
  if (one_file && io_region_bytes(hi - lo) <= slot_bytes_) {
    slot.pending = 1;
    io_->submit([this, s, key, file = locs[0].file, lo, n = hi - lo] { read_job({s, key, file, lo, n, slot_mem(s), 0, kExpertTensors}); });
    return;
  }
  slot.pending = kExpertTensors;
  for (int t = 0; t < kExpertTensors; t++) {
    const ExpertTensorLoc loc = locs[t];
    uint8_t* region = slot.mem + region_offset_[t];
    io_->submit([this, s, key, loc, region, t] { read_job({s, key, loc.file, loc.offset, loc.nbytes, region, t, 1}); });
  }
}

void ExpertCache::read_job(const ReadJob& j) {
  if (opts_.io_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(opts_.io_delay_ms));
  const uint8_t* data = nullptr;
  std::string error;
  try {
    data = reader_.read(j.file, j.offset, j.nbytes, j.region);
  } catch (const std::exception& e) {
    error = e.what();
  }
  std::lock_guard<std::mutex> lock(mu_);
  Slot& slot = slots_[j.slot];
  if (data) {
    const auto& locs = layout_.locs[j.key];
    for (int t = j.first; t < j.first + j.count; t++) {
      Int4Matrix& m = t < 2 ? slot.w.gate : t < 4 ? slot.w.up : slot.w.down;
      const uint8_t* p = data + (locs[t].offset - j.offset);
      if (t % 2 == 0)
        m.packed = reinterpret_cast<const uint32_t*>(p);
      else
        m.scales = reinterpret_cast<const uint16_t*>(p);
    }
    stats_.layers[key_layer(j.key)].bytes_read += j.nbytes;
  } else if (slot.error.empty()) {
    slot.error = error;
  }
  if (--slot.pending == 0) {
    if (slot.error.empty()) {
      const int D = layout_.dim, I = layout_.inter;
      slot.w.gate.rows = slot.w.up.rows = I;
      slot.w.gate.cols = slot.w.up.cols = D;
      slot.w.down.rows = D;
      slot.w.down.cols = I;
      slot.state = State::Ready;
      stats_.resident_bytes += layout_.expert_bytes();
    } else {
      slot.state = State::Failed;
    }
    if (--in_flight_ == 0) stats_.read_seconds += now_s() - busy_since_;
    cv_.notify_all();
  }
}

bool ExpertCache::unheld_loading() const {
  for (const Slot& slot : slots_)
    if (slot.state == State::Loading && slot.refs == 0) return true;
  return false;
}

void ExpertCache::on_token() {
  policy_->on_token();
  tokens_++;
  if (opts_.pin_fraction > 0 && opts_.repin_tokens > 0 && tokens_ % opts_.repin_tokens == 0) repin();
}

void ExpertCache::repin() {
  const int budget = static_cast<int>(slots_.size() * opts_.pin_fraction);
  // Keep room to acquire a whole token's experts of one layer unpinned.
  const int limit = std::min(budget, static_cast<int>(slots_.size()) - std::max(1, layout_.top_k));
  std::vector<int> ready;
  for (int s = 0; s < static_cast<int>(slots_.size()); s++) {
    slots_[s].pinned = false;
    if (slots_[s].state == State::Ready) ready.push_back(s);
  }
  pinned_ = 0;
  if (limit <= 0) return;
  const size_t n = std::min<size_t>(limit, ready.size());
  std::partial_sort(ready.begin(), ready.begin() + n, ready.end(),
                    [&](int a, int b) { return requests_[slots_[a].key] > requests_[slots_[b].key]; });
  for (size_t i = 0; i < n; i++) slots_[ready[i]].pinned = true;
  pinned_ = static_cast<int>(n);
}

bool ExpertCache::pin(int layer, int expert) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = where_.find(layout_.key(layer, expert));
  if (it == where_.end() || slots_[it->second].state != State::Ready) return false;
  if (!slots_[it->second].pinned) pinned_++;
  slots_[it->second].pinned = true;
  return true;
}

bool ExpertCache::is_resident(int layer, int expert) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = where_.find(layout_.key(layer, expert));
  return it != where_.end() && slots_[it->second].state == State::Ready;
}

bool ExpertCache::is_pinned(int layer, int expert) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = where_.find(layout_.key(layer, expert));
  return it != where_.end() && slots_[it->second].pinned;
}

void ExpertCache::acquire(int layer, const int32_t* ids, int n, const ExpertWeights** out) {
  check_ids(layer, ids, n);
  std::unique_lock<std::mutex> lock(mu_);
  // Layers run in order within a token, so going back to an earlier layer starts a new token.
  if (layer <= last_layer_) on_token();
  last_layer_ = layer;
  ExpertLayerStats& st = stats_.layers[layer];
  std::vector<int> mine(n, -1);
  auto undo = [&] {
    for (int s : mine)
      if (s >= 0) slots_[s].refs--;
  };
  // First the experts already resident or on their way: held first, the misses below cannot
  // evict them to make room.
  for (int i = 0; i < n; i++) {
    const uint32_t key = layout_.key(layer, ids[i]);
    requests_[key]++;
    policy_->on_access(key);
    auto it = where_.find(key);
    if (it == where_.end() || slots_[it->second].state == State::Failed) continue;
    Slot& slot = slots_[it->second];
    if (slot.state == State::Ready) st.hits++;
    else st.misses++;  // its read (a prefetch's or another request's) is still in flight
    if (slot.prefetched && slot.guess) st.prefetch_used++;
    slot.prefetched = slot.guess = false;
    slot.refs++;
    mine[i] = it->second;
  }
  for (int i = 0; i < n; i++) {
    if (mine[i] >= 0) continue;
    const uint32_t key = layout_.key(layer, ids[i]);
    auto it = where_.find(key);
    if (it != where_.end()) evict(it->second);  // a failed read: try again
    int s = take_slot(false);
    // Every other slot may be mid-read (prefetches): wait for one to land, then it is evictable.
    while (s < 0 && unheld_loading()) {
      cv_.wait(lock);
      s = take_slot(false);
    }
    if (s < 0) {
      undo();
      throw std::runtime_error("expert cache: no slot for expert " + std::to_string(ids[i]) + " of layer " + std::to_string(layer) +
                               ": all " + std::to_string(slots_.size()) + " slots are in use or pinned (asked for " + std::to_string(n) +
                               " experts at once; max_acquire is " + std::to_string(slots_.size() - pinned_) + ")");
    }
    st.misses++;
    start_load(s, key);
    slots_[s].refs++;
    mine[i] = s;
  }
  auto loading = [&] {
    for (int s : mine)
      if (slots_[s].state == State::Loading) return true;
    return false;
  };
  if (loading()) {
    const double t0 = now_s();
    cv_.wait(lock, [&] { return !loading(); });
    st.stall_ms += (now_s() - t0) * 1000.0;
  }
  for (int i = 0; i < n; i++) {
    Slot& slot = slots_[mine[i]];
    if (slot.state == State::Failed) {
      const std::string error = slot.error;
      undo();
      throw std::runtime_error(error);
    }
    out[i] = &slot.w;
  }
  held_[layer].insert(held_[layer].end(), mine.begin(), mine.end());
}

void ExpertCache::release(int layer) {
  std::lock_guard<std::mutex> lock(mu_);
  if (layer < 0 || layer >= static_cast<int>(held_.size())) return;
  for (int s : held_[layer]) slots_[s].refs--;
  held_[layer].clear();
  // Guesses for this layer that it did not use are wrong: they may be evicted from now on.
  std::vector<int>& guesses = prefetched_[layer];
  size_t kept = 0;
  for (int s : guesses) {
    Slot& slot = slots_[s];
    if (!slot.prefetched || key_layer(slot.key) != layer) continue;  // used, evicted or reused
    if (slot.state == State::Loading) guesses[kept++] = s;           // still arriving: judge it next time
    else slot.prefetched = false;
  }
  guesses.resize(kept);
}

void ExpertCache::prefetch(int layer, const int32_t* ids, int n) {
  if (!opts_.prefetch) return;
  check_ids(layer, ids, n);
  std::lock_guard<std::mutex> lock(mu_);
  ExpertLayerStats& st = stats_.layers[layer];
  // For the layer being computed these are the next batch of its chosen experts, not guesses:
  // they do not count towards prefetch precision.
  const bool guess = held_[layer].empty();
  for (int i = 0; i < n; i++) {
    const uint32_t key = layout_.key(layer, ids[i]);
    if (where_.count(key)) continue;
    const int s = take_slot(true);
    if (s < 0) return;  // no room now
    start_load(s, key);
    slots_[s].prefetched = true;
    slots_[s].guess = guess;
    prefetched_[layer].push_back(s);
    if (guess) st.prefetch_issued++;
  }
}

ExpertStats ExpertCache::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  ExpertStats s = stats_;
  // Reads in flight count up to now.
  if (in_flight_ > 0) s.read_seconds += now_s() - busy_since_;
  return s;
}

}  // namespace k2
