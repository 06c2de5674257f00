// ExpertProvider over the mmapped shards: every routed expert is already addressable, so
// acquire() only hands out the views and counts what was asked for (the OS pages weights in).
#pragma once

#include <mutex>

#include "model/weights.h"
#include "runtime/expert_provider.h"

namespace k2 {

class MappedExpertProvider : public ExpertProvider {
 public:
  explicit MappedExpertProvider(const Weights& w);
  void acquire(int layer, const int32_t* ids, int n, const ExpertWeights** out) override;
  ExpertStats stats() const override;

 private:
  const Weights& w_;
  mutable std::mutex mu_;
  ExpertStats stats_;
  uint64_t expert_bytes_ = 0;
};

}  // namespace k2
