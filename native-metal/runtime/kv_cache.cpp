#include "runtime/kv_cache.h"

#include <stdexcept>
#include <string>

namespace k2 {

KvCache::KvCache(Backend& backend, int layers, int kv_lora, int rope_dim, int capacity)
    : backend_(backend), kv_lora_(kv_lora), rope_dim_(rope_dim), capacity_(capacity) {
  if (capacity <= 0) throw std::invalid_argument("kv cache: capacity must be positive, got " + std::to_string(capacity));
  try {
    for (int l = 0; l < layers; l++) {
      c_.push_back(static_cast<float*>(backend_.alloc(sizeof(float) * static_cast<size_t>(capacity) * kv_lora)));
      pe_.push_back(static_cast<float*>(backend_.alloc(sizeof(float) * static_cast<size_t>(capacity) * rope_dim)));
    }
  } catch (...) {
    for (float* p : c_) backend_.free(p);
    for (float* p : pe_) backend_.free(p);
    throw;
  }
  bytes_ = sizeof(float) * static_cast<size_t>(capacity) * (kv_lora + rope_dim) * layers;
}

KvCache::~KvCache() {
  for (float* p : c_) backend_.free(p);
  for (float* p : pe_) backend_.free(p);
}

void KvCache::truncate(int n) {
  if (n < 0) throw std::invalid_argument("kv cache: cannot truncate to " + std::to_string(n));
  if (n < length_) length_ = n;
}

void KvCache::set_length(int n) {
  if (n < 0 || n > capacity_)
    throw std::out_of_range("kv cache: length " + std::to_string(n) + " outside capacity " + std::to_string(capacity_));
  length_ = n;
}

size_t KvCache::bytes_used() const {
  return sizeof(float) * static_cast<size_t>(length_) * (kv_lora_ + rope_dim_) * c_.size();
}

}  // namespace k2
