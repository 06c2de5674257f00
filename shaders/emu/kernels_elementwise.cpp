// elementwise.metal compiled unchanged for the CPU harness (include/metal_stdlib stands in for Metal's).
#include "emu_register.h"
#include "../elementwise.metal"

K2_EMU_KERNEL(swiglu_f32)
K2_EMU_KERNEL(add_f32)
K2_EMU_KERNEL(embed_bf16_f32)
