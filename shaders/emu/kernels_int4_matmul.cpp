// int4_matmul.metal compiled unchanged for the CPU harness (include/metal_stdlib stands in for Metal's).
#include "emu_register.h"
#include "../int4_matmul.metal"

K2_EMU_KERNEL(int4_matvec_f32)
K2_EMU_KERNEL(int4_matmul_f32)
