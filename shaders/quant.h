// Weight decoding shared by the matmul, attention and MoE kernels (valid MSL and harness C++).
#ifndef K2_SHADERS_QUANT_H
#define K2_SHADERS_QUANT_H

inline float bf16_to_f32(ushort v) { return as_type<float>(uint(v) << 16); }

// One compressed-tensors INT4 group: 32 nibbles in 4 words, element 0 in the low nibble, stored +8.
inline float int4_at(uint word, int k) { return float(int((word >> (4 * k)) & 0xFu) - 8); }

// Dot of one 32-element INT4 group with 32 activations (unscaled).
template <typename XPtr>
inline float int4_group_dot(device const uint* q, XPtr x) {
  float s = 0.0f;
  for (int w = 0; w < 4; w++) {
    const uint word = q[w];
    for (int k = 0; k < 8; k++) s = fma(int4_at(word, k), x[w * 8 + k], s);
  }
  return s;
}

// This lane's share of row · x for an INT4 row of `groups` groups: lane takes groups lane, lane+32, ...
template <typename XPtr>
inline float int4_row_dot_lane(device const uint* packed_row, device const ushort* scales_row, XPtr x, int groups, ushort lane) {
  float s = 0.0f;
  for (int g = lane; g < groups; g += 32) s = fma(bf16_to_f32(scales_row[g]), int4_group_dot(packed_row + g * 4, x + g * 32), s);
  return s;
}

#endif
