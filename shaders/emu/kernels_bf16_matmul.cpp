// bf16_matmul.metal compiled unchanged for the CPU harness (include/metal_stdlib stands in for Metal's).
#include "emu_register.h"
#include "../bf16_matmul.metal"

K2_EMU_KERNEL(bf16_matvec_f32)
K2_EMU_KERNEL(bf16_matmul_f32)
