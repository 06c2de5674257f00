// The C++ mirror of src/engine/native_api.ts NativeLoadPlan: numbers and file offsets that the
// TypeScript loader already validated against config.json and the safetensors headers.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "model/model_config.h"

namespace k2 {

enum class DType { BF16, F32, I32 };

struct TensorEntry {
  int file = 0;
  uint64_t offset = 0;  // from the start of the shard file
  uint64_t nbytes = 0;
  DType dtype = DType::BF16;
  std::vector<int64_t> shape;
};

struct LoadPlan {
  ModelConfig config;
  std::vector<std::string> files;
  std::map<std::string, TensorEntry> tensors;
  int threads = 0;
  std::string backend = "cpu";
  CpuMode cpu_mode = CpuMode::exact;
  uint64_t memory_budget = 0;
  // Bytes of expert-cache slots; 0 = every expert stays in the mapped shards (it all fits).
  uint64_t expert_cache_bytes = 0;
  std::string expert_io = "pread";     // pread | mmap
  std::string expert_policy = "mix";   // lru | lfu | mix
  bool expert_prefetch = true;
  int expert_io_threads = 16;
  std::string record_routes;  // --record-routes: route trace file ("" = off)
};

}  // namespace k2
