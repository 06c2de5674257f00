// sampling.metal compiled unchanged for the CPU harness (include/metal_stdlib stands in for Metal's).
#include "emu_register.h"
#include "../sampling.metal"

K2_EMU_KERNEL(argmax_f32)
