// Appends new tokens' latent KV rows to the MLA cache on the device, so a decode step never waits
// for the GPU just to let the host copy 576 floats per layer. 256 threads per threadgroup.
#include <metal_stdlib>
using namespace metal;

#include "kargs.h"

// cache_c[start + t, :] = kv[t, 0:kv_lora]; cache_pe[start + t, :] = kv[t, kv_lora:kv_lora + rope_dim]
// grid (ceil((kv_lora + rope_dim) / 256), n)
kernel void kv_append_f32(constant K2KvAppendArgs& args [[buffer(0)]],
                          device const float* kv [[buffer(1)]],
                          device float* cache_c [[buffer(2)]],
                          device float* cache_pe [[buffer(3)]],
                          uint3 tgpig [[threadgroup_position_in_grid]],
                          ushort tiitg [[thread_index_in_threadgroup]],
                          ushort3 ntg [[threads_per_threadgroup]],
                          ushort sgitg [[simdgroup_index_in_threadgroup]],
                          ushort tiisg [[thread_index_in_simdgroup]]) {
  const int i = int(tgpig.x) * ntg.x + tiitg, t = int(tgpig.y);
  if (i >= args.kv_lora + args.rope_dim) return;
  const float v = kv[t * args.row_stride + i];
  const int pos = args.start + t;
  if (i < args.kv_lora)
    cache_c[pos * args.kv_lora + i] = v;
  else
    cache_pe[pos * args.rope_dim + (i - args.kv_lora)] = v;
}
