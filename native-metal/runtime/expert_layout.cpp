#include "runtime/expert_layout.h"

namespace k2 {

uint64_t ExpertLayout::expert_bytes() const {
  for (const auto& e : locs)
    if (e[0].file >= 0) {
      uint64_t n = 0;
      for (const ExpertTensorLoc& t : e) n += t.nbytes;
      return n;
    }
  return 0;
}

int ExpertLayout::moe_layers() const {
  int n = 0;
  for (int l = 0; l < n_layers; l++) n += has(l) ? 1 : 0;
  return n;
}

}  // namespace k2
