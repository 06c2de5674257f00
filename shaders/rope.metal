// YaRN RoPE over interleaved pairs (x[2i], x[2i+1]) in place; inv_freq carries the YaRN
// correction. One threadgroup per row, threads over (head, pair).
// The angle pos * inv_freq reaches ~2.6e5 rad at K2's 256k context: float cos/sin of it would
// be off by ~1e-2 rad. So the product is formed exactly (two-product with fma) and reduced by
// 2*pi split in three parts (Cody-Waite) before cos/sin, which then see |r| <= pi.
#include <metal_stdlib>
using namespace metal;

#include "kargs.h"

inline float rope_reduced_angle(int pos, float inv_freq) {
  const float p = float(pos);
  const float hi = p * inv_freq;
  const float lo = fma(p, inv_freq, -hi);  // exact: hi + lo == pos * inv_freq
  // 2*pi = C1 + C2 + C3; C1 has 8 significant bits, so k * C1 is exact for k < 2^16.
  const float C1 = 6.28125f, C2 = 1.9353071693331003e-3f, C3 = 1.0253131677018246e-11f;
  const float k = rint(hi * 0.15915494309189535f);
  float r = hi - k * C1;
  r = r - k * C2;
  r = r + lo;
  r = r - k * C3;
  return r;
}

kernel void rope_f32(constant K2RopeArgs& args [[buffer(0)]],
                     device float* x [[buffer(1)]],
                     device const int* pos [[buffer(2)]],
                     device const float* inv_freq [[buffer(3)]],
                     uint3 tgpig [[threadgroup_position_in_grid]],
                     ushort tiitg [[thread_index_in_threadgroup]],
                     ushort3 ntg [[threads_per_threadgroup]],
                     ushort sgitg [[simdgroup_index_in_threadgroup]],
                     ushort tiisg [[thread_index_in_simdgroup]]) {
  const int r = int(tgpig.x);
  const int half_dim = args.rope_dim / 2;
  for (int j = tiitg; j < args.n_heads * half_dim; j += ntg.x) {
    const int h = j / half_dim, i = j % half_dim;
    const float a = rope_reduced_angle(pos[r], inv_freq[i]);
    const float c = cos(a), s = sin(a);
    device float* p = x + r * args.row_stride + h * args.head_stride + 2 * i;
    const float x0 = p[0], x1 = p[1];
    p[0] = x0 * c - x1 * s;
    p[1] = x0 * s + x1 * c;
  }
}
