// ExpertStats summed over layers, and the difference between two snapshots: what one generation
// cost (the per-generation ExpertTelemetry the engine reports in its `done` event).
#pragma once

#include "runtime/expert_provider.h"

namespace k2 {

struct ExpertTotals {
  uint64_t hits = 0, misses = 0, bytes_read = 0, prefetch_issued = 0, prefetch_used = 0;
  double stall_ms = 0, read_seconds = 0;
  uint64_t resident_bytes = 0, capacity_bytes = 0;
};

inline ExpertTotals expert_totals(const ExpertStats& s) {
  ExpertTotals t;
  for (const ExpertLayerStats& l : s.layers) {
    t.hits += l.hits;
    t.misses += l.misses;
    t.bytes_read += l.bytes_read;
    t.prefetch_issued += l.prefetch_issued;
    t.prefetch_used += l.prefetch_used;
    t.stall_ms += l.stall_ms;
  }
  t.read_seconds = s.read_seconds;
  t.resident_bytes = s.resident_bytes;
  t.capacity_bytes = s.capacity_bytes;
  return t;
}

// Counters of `after` minus `before`; resident/capacity are `after`'s.
inline ExpertTotals expert_delta(const ExpertTotals& before, const ExpertTotals& after) {
  ExpertTotals d = after;
  d.hits -= before.hits;
  d.misses -= before.misses;
  d.bytes_read -= before.bytes_read;
  d.prefetch_issued -= before.prefetch_issued;
  d.prefetch_used -= before.prefetch_used;
  d.stall_ms -= before.stall_ms;
  d.read_seconds -= before.read_seconds;
  return d;
}

}  // namespace k2
