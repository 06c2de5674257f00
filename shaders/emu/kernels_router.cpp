// router.metal compiled unchanged for the CPU harness (include/metal_stdlib stands in for Metal's).
#include "emu_register.h"
#include "../router.metal"

K2_EMU_KERNEL(router_topk_f32)
