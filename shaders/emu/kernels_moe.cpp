// moe.metal compiled unchanged for the CPU harness (include/metal_stdlib stands in for Metal's).
#include "emu_register.h"
#include "../moe.metal"

K2_EMU_KERNEL(moe_gate_up_int4_f32)
K2_EMU_KERNEL(moe_down_int4_f32)
K2_EMU_KERNEL(moe_gather_rows_f32)
K2_EMU_KERNEL(moe_scatter_add_f32)
