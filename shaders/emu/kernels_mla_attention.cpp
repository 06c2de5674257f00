// mla_attention.metal compiled unchanged for the CPU harness (include/metal_stdlib stands in for Metal's).
#include "emu_register.h"
#include "../mla_attention.metal"

K2_EMU_KERNEL(mla_attention_f32)
K2_EMU_KERNEL(mla_attention_qblock_f32)
