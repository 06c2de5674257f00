// The harness's deliberately broken kernels (selftest/broken_kernels.metal), for its own tests.
#include "emu_register.h"
#include "selftest/broken_kernels.metal"

K2_EMU_KERNEL(selftest_sum_with_barrier)
K2_EMU_KERNEL(selftest_sum_missing_barrier)
K2_EMU_KERNEL(selftest_barrier_half)
K2_EMU_KERNEL(selftest_tree_sum_good)
K2_EMU_KERNEL(selftest_tree_sum_wrong)
K2_EMU_KERNEL(selftest_simd_divergent)
