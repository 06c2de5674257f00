// Every Metal kernel, run through the dispatch layer on the CPU harness (backend "metal-emu"),
// against the CPU backend (exact mode) on random inputs of several shapes, including ragged sizes
// that are not multiples of the threadgroup, the 32-wide tiles or the simdgroup. Each op runs
// under both harness thread orders and must give bit-identical results (no order-dependent
// races). Tolerances, per kernel, are stated next to each test relative to the output scale.
import { afterAll, describe, expect, it } from "vitest";
import { loadAddon } from "../../src/engine/native_addon.js";
import { expectClose, expertOpArgs, randBf16, randF32, randInt4, rng } from "../helpers/backend_tensors.js";

const addon = loadAddon();
afterAll(() => addon.setMetalEmuSchedule("forward"));

/** Runs op on metal-emu under both thread orders (must agree bit for bit) and on cpu. */
function both<T>(op: string, args: Record<string, unknown>): { metal: T; cpu: T } {
  addon.setMetalEmuSchedule("forward");
  const fwd = addon.runBackendOp("metal-emu", op, args) as T;
  addon.setMetalEmuSchedule("reverse");
  const rev = addon.runBackendOp("metal-emu", op, args) as T;
  addon.setMetalEmuSchedule("forward");
  expect(rev, `${op}: reverse thread order differs from forward`).toEqual(fwd);
  return { metal: fwd, cpu: addon.runBackendOp("cpu", op, args, { cpuMode: "exact", threads: 1 }) as T };
}

/** |metal - cpu| <= rel * (largest |cpu| of the row) + abs, per element. */
function expectNear(metal: Float32Array, cpu: Float32Array, rowLen: number, rel: number, abs: number, what: string) {
  const scale = new Float64Array(cpu.length);
  for (let r = 0; r * rowLen < cpu.length; r++) {
    let m = 0;
    for (let i = r * rowLen; i < Math.min(cpu.length, (r + 1) * rowLen); i++) m = Math.max(m, Math.abs(cpu[i]!));
    scale.fill(m, r * rowLen, (r + 1) * rowLen);
  }
  expectClose(metal, cpu, (i) => rel * scale[i]! + abs, what);
}

describe("metal kernels on the harness vs the cpu backend", () => {
  // n < 8: bf16_matvec_f32 / int4_matvec_f32; n >= 8: the 32x32 simdgroup_matrix tiles.
  const SHAPES = [
    [1, 37, 45],
    [3, 70, 136],
    [7, 5, 31],
    [8, 33, 40],
    [13, 19, 7],
    [41, 66, 100],
  ] as const;

  // f32 accumulation in a different order: 1e-5 of the output scale.
  it("bf16_matvec_f32 and bf16_matmul_f32", () => {
    const r = rng(101);
    for (const [n, rows, cols] of SHAPES) {
      const args = { n, rows, cols, x: randF32(r, n * cols), w: randBf16(r, rows * cols) };
      const { metal, cpu } = both<Float32Array>("matmul_bf16", args);
      expectNear(metal, cpu, rows, 1e-5, 1e-6, `matmul_bf16 ${n}x${rows}x${cols}`);
    }
  });

  // Same dequantized values (exact in f32), different summation order: 1e-5 of the output scale.
  it("int4_matvec_f32 and int4_matmul_f32", () => {
    const r = rng(102);
    for (const [n, rows, cols] of [
      [1, 33, 96],
      [5, 50, 160],
      [8, 17, 32],
      [12, 3, 64],
      [40, 35, 288],
    ] as const) {
      const w = randInt4(r, rows, cols);
      const args = { n, rows, cols, x: randF32(r, n * cols), packed: w.packed, scales: w.scales };
      const { metal, cpu } = both<Float32Array>("matmul_int4", args);
      expectNear(metal, cpu, rows, 1e-5, 1e-6, `matmul_int4 ${n}x${rows}x${cols}`);
    }
  });

  // A copy of bf16 values: exact.
  it("embed_bf16_f32", () => {
    const r = rng(103);
    const rows = 50, cols = 300;
    const args = { rows, cols, table: randBf16(r, rows * cols), ids: new Int32Array([3, 49, 0, 3]) };
    const { metal, cpu } = both<Float32Array>("embed_bf16", args);
    expect(metal).toEqual(cpu);
    expect(() => addon.runBackendOp("metal-emu", "embed_bf16", { ...args, ids: new Int32Array([50]) })).toThrow(/token id 50 outside vocabulary of 50/);
  });

  // f32 sum of squares (cpu: f64): 2e-6 relative.
  it("rmsnorm_f32 with a row stride, in place", () => {
    const r = rng(104);
    for (const [n, dim, stride] of [
      [1, 7168, 7168],
      [5, 19, 27],
      [3, 512, 576],
      [2, 300, 300],
    ] as const) {
      const args = { n, dim, stride, eps: 1e-5, x: randF32(r, n * stride, 3), w: randBf16(r, dim) };
      const { metal, cpu } = both<Float32Array>("rmsnorm", args);
      expectNear(metal, cpu, stride, 2e-6, 1e-7, `rmsnorm ${n}x${dim}/${stride}`);
    }
  });

  // Angles are reduced exactly enough that even position 262143 stays within 2e-5 of the f64 result.
  it("rope_f32 over interleaved pairs, up to K2's longest context", () => {
    const r = rng(105);
    const n = 4, heads = 3, headStride = 70, ropeDim = 64, rowStride = 230;
    const invFreq = Float32Array.from({ length: ropeDim / 2 }, (_, i) => 50000 ** (-(2 * i) / ropeDim));
    const args = { n, nHeads: heads, rowStride, headStride, ropeDim, x: randF32(r, n * rowStride), pos: new Int32Array([0, 7, 4095, 262143]), invFreq };
    const { metal, cpu } = both<Float32Array>("rope", args);
    expectNear(metal, cpu, rowStride, 0, 2e-5, "rope");
  });

  // Online softmax in f32 across 4 simdgroups vs a two-pass f32/f64 softmax: 2e-5 of the scale.
  it.each([
    [1, 2, 8, 6, 5, 20, 1, [0]], // decode at the first position
    [3, 3, 8, 6, 5, 20, 11, [0, 3, 9]], // several queries below the query-block size
    [4, 3, 8, 6, 5, 20, 11, [0, 3, 9, 10]], // causal prefill, ragged dims: one query block
    [2, 2, 128, 64, 128, 512, 40, [38, 39]], // K2's head dims and latent rank
    [6, 3, 8, 6, 5, 20, 30, [2, 9, 10, 11, 25, 29]], // query blocks (4 + a ragged 2), tiles of 8 positions
    [5, 2, 128, 64, 128, 512, 21, [16, 17, 18, 19, 20]], // query blocks at K2's dims
  ] as const)("mla_attention_f32 / mla_attention_qblock_f32 (%i tokens, %i heads, nope %i)", (nTokens, nHeads, nopeDim, ropeDim, vDim, kvLora, nCtx, pos) => {
    const r = rng(106);
    const args = {
      nTokens, nHeads, nopeDim, ropeDim, vDim, kvLora, nCtx,
      q: randF32(r, nTokens * nHeads * (nopeDim + ropeDim)),
      kvB: randBf16(r, nHeads * (nopeDim + vDim) * kvLora, 0.1),
      cacheC: randF32(r, nCtx * kvLora),
      cachePe: randF32(r, nCtx * ropeDim),
      pos: Int32Array.from(pos),
      softmaxScale: 0.1,
    };
    const { metal, cpu } = both<Float32Array>("mla_attention", args);
    expectNear(metal, cpu, nHeads * vDim, 2e-5, 1e-6, "mla_attention");
  });

  // Same experts chosen (ids exact); weights within 1e-6 relative.
  it.each([
    [1, 1, 16, 3],
    [4, 2, 16, 3],
    [1, 1, 384, 8], // K2: 384 experts, top 8
    [8, 4, 256, 8], // DeepSeek-V3 style group limit
  ] as const)("router_topk_f32 (groups %i keep %i, %i experts, top %i)", (nGroup, topkGroup, nExperts, topK) => {
    const r = rng(107);
    const nTokens = 5;
    const args = { nTokens, nExperts, topK, nGroup, topkGroup, normTopkProb: true, scaling: 2.827, logits: randF32(r, nTokens * nExperts, 3), bias: randF32(r, nExperts, 0.5) };
    const { metal, cpu } = both<{ ids: Int32Array; weights: Float32Array }>("router_topk", args);
    expect(metal.ids).toEqual(cpu.ids);
    expectNear(metal.weights, cpu.weights, topK, 1e-6, 1e-7, "router weights");
    const noBias = both<{ ids: Int32Array; weights: Float32Array }>("router_topk", { ...args, bias: undefined, normTopkProb: false });
    expect(noBias.metal.ids).toEqual(noBias.cpu.ids);
    expectNear(noBias.metal.weights, noBias.cpu.weights, topK, 1e-6, 1e-7, "router weights without bias");
  });

  // Element-wise f32: swiglu within 1 ulp-ish (exp), add exact.
  it("swiglu_f32 and add_f32 on ragged lengths", () => {
    const r = rng(108);
    for (const [n, dim] of [
      [1, 13],
      [3, 257],
      [2, 2048],
    ] as const) {
      const { metal, cpu } = both<Float32Array>("swiglu", { n, dim, gate: randF32(r, n * dim, 4), up: randF32(r, n * dim) });
      expectNear(metal, cpu, dim, 1e-6, 1e-7, "swiglu");
      const sum = both<Float32Array>("add", { y: randF32(r, n * dim), x: randF32(r, n * dim) });
      expect(sum.metal).toEqual(sum.cpu);
    }
  });

  // A copy: exact, and nothing outside the appended rows changes.
  it("kv_append_f32 writes the new rows' latent and roped key into the cache, on ragged widths", () => {
    const r = rng(110);
    for (const [n, kvLora, ropeDim, start, capacity] of [
      [1, 512, 64, 17, 20], // K2's widths, one decode row
      [5, 37, 9, 0, 8], // a prefill chunk at position 0, widths not multiples of the threadgroup
      [3, 300, 30, 5, 8],
    ] as const) {
      const rowStride = kvLora + ropeDim + 3; // rows of the kv projection are wider than what is kept
      const args = { n, rowStride, kvLora, ropeDim, start, capacity, kv: randF32(r, n * rowStride), cacheC: randF32(r, capacity * kvLora), cachePe: randF32(r, capacity * ropeDim) };
      const { metal, cpu } = both<{ cacheC: Float32Array; cachePe: Float32Array }>("kv_append", args);
      expect(metal.cacheC).toEqual(cpu.cacheC);
      expect(metal.cachePe).toEqual(cpu.cachePe);
      for (let t = 0; t < capacity; t++) {
        const mine = t >= start && t < start + n;
        for (let i = 0; i < kvLora; i += 7) expect(cpu.cacheC[t * kvLora + i]).toBe(mine ? args.kv[(t - start) * rowStride + i] : args.cacheC[t * kvLora + i]);
        for (let i = 0; i < ropeDim; i++) expect(cpu.cachePe[t * ropeDim + i]).toBe(mine ? args.kv[(t - start) * rowStride + kvLora + i] : args.cachePe[t * ropeDim + i]);
      }
    }
  });

  // Two INT4 matvecs + SwiGLU + INT4 matvec + weighted accumulate: 2e-5 of the output scale.
  // Groups under 8 rows: moe_gate_up/moe_down matvecs; from 8 rows: gather, tiled INT4 matmuls, scatter-add.
  it("moe kernels (matvec and gathered tiled paths) accumulate weighted experts into token rows", () => {
    const r = rng(109);
    const n = 45, dim = 96, inter = 160;
    const experts = [0, 1, 2].map(() => expertOpArgs({ gate: randInt4(r, inter, dim), up: randInt4(r, inter, dim), down: randInt4(r, dim, inter) }));
    const groups = [
      { expert: 2, rows: new Int32Array([0, 3, 4]), weights: new Float32Array([0.5, 1.25, 0.75]) },
      { expert: 0, rows: new Int32Array([3]), weights: new Float32Array([2]) },
      { expert: 1, rows: Int32Array.from({ length: 10 }, (_, i) => (i * 3 + 1) % n), weights: Float32Array.from({ length: 10 }, (_, i) => 0.1 * (i + 1)) },
      { expert: 0, rows: Int32Array.from({ length: 40 }, (_, i) => (i * 7 + 2) % n), weights: Float32Array.from({ length: 40 }, (_, i) => 0.05 * (i + 1)) },
    ];
    const { metal, cpu } = both<Float32Array>("moe_experts", { n, dim, inter, x: randF32(r, n * dim), out: randF32(r, n * dim), experts, groups });
    expectNear(metal, cpu, dim, 2e-5, 1e-6, "moe_experts");
  });

  it("moe_experts_with (the base backend's two calls) matches the CPU backend's one pass", () => {
    const r = rng(111);
    const n = 3, dim = 64, inter = 32, rows = 80;
    const experts = [0, 1].map(() => expertOpArgs({ gate: randInt4(r, inter, dim), up: randInt4(r, inter, dim), down: randInt4(r, dim, inter) }));
    const groups = [
      { expert: 1, rows: new Int32Array([0, 2]), weights: new Float32Array([0.5, 1.5]) },
      { expert: 0, rows: new Int32Array([1]), weights: new Float32Array([0.75]) },
    ];
    const withArgs = { x: randF32(r, n * inter), n, w: randBf16(r, rows * inter), rows, cols: inter };
    const { metal, cpu } = both<{ out: Float32Array; y: Float32Array }>("moe_experts_with", {
      n, dim, inter, x: randF32(r, n * dim), out: randF32(r, n * dim), experts, groups, with: withArgs,
    });
    expectNear(metal.out, cpu.out, dim, 2e-5, 1e-6, "moe_experts_with out");
    expectNear(metal.y, cpu.y, rows, 2e-5, 1e-6, "moe_experts_with y");
  });

  // Not reachable through the backend interface (sampling runs on the host today): run directly.
  it("argmax_f32 picks the largest logit, ties to the lower index", () => {
    const r = rng(110);
    const rows = 3, n = 1000;
    const logits = randF32(r, rows * n, 5);
    logits[1 * n + 10] = 9;
    logits[1 * n + 700] = 9; // tie: index 10 wins
    logits[2 * n + 999] = 50; // last element
    for (const schedule of ["forward", "reverse"] as const) {
      const out = new Int32Array(rows);
      addon.runMetalEmuKernel("argmax_f32", [new Int32Array([rows, n]), logits, out], { grid: [rows, 1, 1], threads: 256, schedule });
      const want = [0, 1, 2].map((row) => {
        let b = 0;
        for (let i = 1; i < n; i++) if (logits[row * n + i]! > logits[row * n + b]!) b = i;
        return b;
      });
      expect(Array.from(out)).toEqual(want);
      expect(out[1]).toBe(10);
      expect(out[2]).toBe(999);
    }
  });
});
