// Constants of Cephes' expf, shared by the vector exps of the attention kernels
// (mla_rows_avx2.cpp, mla_rows_avx512.cpp, mla_rows_neon.cpp): e^x = 2^n · e^r with n = round(x·log2 e) and
// r = x − n·ln 2 (ln 2 split in two for precision), e^r ≈ 1 + r + r²·P(r). Relative error ~1e-7.
#pragma once

namespace k2 {
namespace exp_cephes {

constexpr float kMinArg = -87.33654f;  // below: 0 (e^x under the smallest normal float)
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;
constexpr float kLn2Lo = -2.12194440e-4f;
// P's coefficients, highest degree first (Horner order).
constexpr float kPoly[6] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};

}  // namespace exp_cephes
}  // namespace k2
