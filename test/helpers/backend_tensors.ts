// Random tensors in the checkpoint's encodings (bf16 bits, compressed-tensors INT4) and a
// tolerance-aware comparison, shared by the backend op tests of every backend.
import { expect } from "vitest";
import { seededRng } from "./seeded_rng.js";

// Deterministic pseudo-random numbers (mulberry32) so failures reproduce.
export const rng = seededRng;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
export function toBf16(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff; // round to nearest even
}
export function fromBf16(h: number): number {
  u32[0] = h << 16;
  return f32[0]!;
}

export function randF32(r: () => number, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (r() * 2 - 1) * scale;
  return a;
}
export function randBf16(r: () => number, n: number, scale = 1): Uint16Array {
  const a = new Uint16Array(n);
  for (let i = 0; i < n; i++) a[i] = toBf16((r() * 2 - 1) * scale);
  return a;
}

export interface Int4 {
  packed: Uint32Array;
  scales: Uint16Array;
  rows: number;
  cols: number;
}
export function randInt4(r: () => number, rows: number, cols: number): Int4 {
  const packed = new Uint32Array((rows * cols) / 8);
  for (let i = 0; i < packed.length; i++) packed[i] = Math.floor(r() * 4294967296) >>> 0;
  const scales = new Uint16Array((rows * cols) / 32);
  for (let i = 0; i < scales.length; i++) scales[i] = toBf16(0.01 + r() * 0.05);
  return { packed, scales, rows, cols };
}
/** One expert as runBackendOp("moe_experts") takes it. */
export function expertOpArgs(e: { gate: Int4; up: Int4; down: Int4 }) {
  return {
    gatePacked: e.gate.packed,
    gateScales: e.gate.scales,
    upPacked: e.up.packed,
    upScales: e.up.scales,
    downPacked: e.down.packed,
    downScales: e.down.scales,
  };
}
export function int4At(w: Int4, o: number, i: number): number {
  const word = w.packed[(o * w.cols) / 8 + Math.floor(i / 8)]!;
  const q = (word >>> (4 * (i % 8))) & 0xf;
  return (q - 8) * fromBf16(w.scales[(o * w.cols) / 32 + Math.floor(i / 32)]!);
}

export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: (i: number) => number, what: string) {
  expect(got.length, `${what}: length`).toBe(want.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < want.length; i++) {
    const excess = Math.abs(got[i]! - want[i]!) - tol(i);
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  expect(worst < 0 ? "ok" : `${what}[${worst}]: got ${got[worst]}, want ${want[worst]}`).toBe("ok");
}

