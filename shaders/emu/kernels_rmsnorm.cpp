// rmsnorm.metal compiled unchanged for the CPU harness (include/metal_stdlib stands in for Metal's).
#include "emu_register.h"
#include "../rmsnorm.metal"

K2_EMU_KERNEL(rmsnorm_f32)
