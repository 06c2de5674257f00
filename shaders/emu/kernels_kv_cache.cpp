// kv_cache.metal compiled unchanged for the CPU harness (include/metal_stdlib stands in for Metal's).
#include "emu_register.h"
#include "../kv_cache.metal"

K2_EMU_KERNEL(kv_append_f32)
