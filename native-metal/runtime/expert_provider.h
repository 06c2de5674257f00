// Where the forward pass gets routed experts from. The model asks for the experts a layer's
// router chose; the provider makes them resident and hands back their weights.
//
// Two implementations: MappedExpertProvider (every expert read straight from the mmapped shards;
// the OS pages them in) and the expert cache (expert_cache.*: slots within a memory budget,
// filled by large reads from SSD, with prefetch). The model never knows which one runs.
#pragma once

#include <cstdint>
#include <vector>

#include "backend/backend.h"

namespace k2 {

struct ExpertLayerStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t bytes_read = 0;
  double stall_ms = 0;           // time acquire() waited for I/O
  uint64_t prefetch_issued = 0;
  uint64_t prefetch_used = 0;    // prefetched experts that acquire() then asked for
};

struct ExpertStats {
  std::vector<ExpertLayerStats> layers;  // index = layer
  uint64_t resident_bytes = 0;
  uint64_t capacity_bytes = 0;
  double read_seconds = 0;               // wall time the I/O threads spent reading
};

class ExpertProvider {
 public:
  virtual ~ExpertProvider() = default;
  // Makes experts ids[0..n) of `layer` resident and stores their weights in out[0..n). The
  // pointers stay valid until release(layer) is called; the same id may appear only once.
  virtual void acquire(int layer, const int32_t* ids, int n, const ExpertWeights** out) = 0;
  // Done with the experts acquired for `layer` (they may be evicted from now on).
  virtual void release(int layer) {}
  // The experts `layer` will probably need soon; a provider may start reading them.
  virtual void prefetch(int layer, const int32_t* ids, int n) {}
  // The most experts one acquire() may ask for (a budgeted cache has few slots); the model splits
  // a layer's experts into batches of at most this many.
  virtual int max_acquire() const { return 1 << 30; }
  // Whether prefetch() does anything (the model skips predicting the next layer's routes if not).
  virtual bool wants_prefetch() const { return false; }
  virtual ExpertStats stats() const = 0;
};

}  // namespace k2
