// The MLA latent cache of one session: per layer and token, the normalised latent c
// (kv_lora_rank floats) and the roped shared key k_pe (qk_rope_head_dim floats) — 576 values per
// token per layer on K2 instead of 2·64·(128+64) for uncompressed heads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "backend/backend.h"

namespace k2 {

class KvCache {
 public:
  KvCache(Backend& backend, int layers, int kv_lora, int rope_dim, int capacity);
  ~KvCache();
  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;

  int capacity() const { return capacity_; }
  int length() const { return length_; }
  // Tokens [0, n) stay valid; later positions are overwritten by the next forward pass.
  void truncate(int n);
  void set_length(int n);
  size_t bytes() const { return bytes_; }
  size_t bytes_used() const;

  float* c(int layer) { return c_[layer]; }      // [capacity, kv_lora]
  float* pe(int layer) { return pe_[layer]; }    // [capacity, rope_dim]
  int kv_lora() const { return kv_lora_; }
  int rope_dim() const { return rope_dim_; }

 private:
  Backend& backend_;
  int kv_lora_, rope_dim_, capacity_;
  int length_ = 0;
  size_t bytes_ = 0;
  std::vector<float*> c_, pe_;
};

}  // namespace k2
