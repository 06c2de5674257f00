// The expert cache: routed experts held in fixed-size slots within a memory budget, filled from
// the shards by the I/O pool (expert_io.*), with prefetch, pinning of the hottest experts and
// per-layer counters. An ExpertProvider, so the model does not know it is there.
//
// A slot holds one expert: six regions (packed weights and scales of gate, up and down), each
// 4 KiB-aligned and large enough for a direct read of its tensor at any file offset. Slots live
// in one anonymous mapping registered with the backend; pages are committed as slots fill.
//
// Threads: acquire()/release()/prefetch() come from the forward-pass thread; reads complete on
// I/O threads. One mutex guards the slot table. An expert that is being read (for a prefetch or
// another acquire) is never read twice: a second request waits for the same read.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "backend/backend.h"
#include "runtime/expert_cache_policy.h"
#include "runtime/expert_io.h"
#include "runtime/expert_io_pool.h"
#include "runtime/expert_layout.h"
#include "runtime/expert_provider.h"

namespace k2 {

struct ExpertCacheOptions {
  uint64_t capacity_bytes = 0;  // slots = capacity_bytes / slot_bytes()
  ExpertIoMode io = ExpertIoMode::Pread;
  EvictionPolicyKind policy = EvictionPolicyKind::FreqRecency;
  // Reads in flight at once: an SSD needs a deep queue. On this shared virtio disk 8, 16 and 32
  // measured within noise of each other (0.4-0.65 GB/s for a cold prefill), 4 lower.
  int io_threads = 16;
  bool prefetch = true;
  // Share of the slots that hold pinned experts (never evicted): the most requested ones,
  // re-chosen every repin_tokens tokens.
  double pin_fraction = 0.125;
  int repin_tokens = 32;
  // Test hook: every read sleeps this long first, so a test can be sure a prefetch is still in
  // flight when the demand for the same expert arrives.
  int io_delay_ms = 0;
};

// Bytes of one slot for this layout (what the memory plan divides the expert budget by).
uint64_t expert_slot_bytes(const ExpertLayout& layout);

class ExpertCache : public ExpertProvider {
 public:
  // Throws std::invalid_argument when capacity_bytes holds fewer than one slot.
  ExpertCache(ExpertLayout layout, Backend& backend, const ExpertCacheOptions& opts);
  ~ExpertCache() override;

  void acquire(int layer, const int32_t* ids, int n, const ExpertWeights** out) override;
  void release(int layer) override;
  void prefetch(int layer, const int32_t* ids, int n) override;
  int max_acquire() const override;
  bool wants_prefetch() const override { return opts_.prefetch; }
  ExpertStats stats() const override;

  int slots() const { return static_cast<int>(slots_.size()); }
  uint64_t slot_bytes() const { return slot_bytes_; }
  bool direct_io() const { return reader_.direct(); }
  // Pins a resident expert (tests and explicit hot sets); returns false if it is not resident.
  bool pin(int layer, int expert);
  bool is_resident(int layer, int expert) const;
  bool is_pinned(int layer, int expert) const;

 private:
  enum class State { Empty, Loading, Ready, Failed };
  struct Slot {
    State state = State::Empty;
    uint32_t key = 0;
    int refs = 0;
    bool pinned = false;
    bool prefetched = false;  // read by prefetch() and not yet acquired
    bool guess = false;       // ...for a layer not yet running (counts towards precision)
    int pending = 0;          // reads still in flight
    std::string error;
    uint8_t* mem = nullptr;
    ExpertWeights w;
  };

  int key_layer(uint32_t key) const { return static_cast<int>(key / layout_.n_experts); }
  void check_ids(int layer, const int32_t* ids, int n) const;
  // A free slot, or one evicted by the policy; -1 when every slot is busy, pinned or (for a
  // prefetch) holding another prefetched expert. Caller holds mu_.
  int take_slot(bool for_prefetch);
  void evict(int slot);
  // Some slot is being read for nobody in particular (a prefetch, or a failed acquire's): it will
  // become evictable. Caller holds mu_.
  bool unheld_loading() const;
  // Marks the slot Loading for key and queues its six reads. Caller holds mu_.
  void start_load(int slot, uint32_t key);
  // One read into a slot: `count` of the expert's tensors, starting with `first`, lie in
  // [offset, offset + nbytes) of `file` (the whole expert, or one tensor).
  struct ReadJob {
    int slot;
    uint32_t key;
    int file;
    uint64_t offset, nbytes;
    uint8_t* region;
    int first, count;
  };
  void read_job(const ReadJob& job);
  uint8_t* slot_mem(int s) const { return slots_[s].mem; }
  void on_token();
  void repin();

  ExpertLayout layout_;
  Backend& backend_;
  ExpertCacheOptions opts_;
  ShardReader reader_;
  uint64_t slot_bytes_ = 0;
  uint64_t region_offset_[kExpertTensors] = {};
  uint8_t* arena_ = nullptr;
  size_t arena_bytes_ = 0;
  void* map_ = nullptr;  // the reservation arena_ sits in (aligned inside it)
  size_t map_bytes_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Slot> slots_;
  std::vector<int> free_;
  std::unordered_map<uint32_t, int> where_;  // key -> slot
  std::vector<std::vector<int>> held_;       // per layer: slots acquire() handed out
  // Per layer: slots prefetch() filled, so release() clears stale guesses without scanning every
  // slot (K2 has ~16k slots and 60 MoE layers a token). Entries may be stale (used, evicted,
  // reused); release() re-checks each.
  std::vector<std::vector<int>> prefetched_;
  std::unique_ptr<EvictionPolicy> policy_;
  std::vector<uint64_t> requests_;           // per key, for pinning
  int pinned_ = 0;
  int last_layer_ = -1;
  uint64_t tokens_ = 0;
  ExpertStats stats_;
  // Aggregate read time: the wall clock while at least one read is in flight.
  int in_flight_ = 0;
  double busy_since_ = 0;

  std::unique_ptr<IoPool> io_;  // last: its threads stop before the slots go away
};

}  // namespace k2
