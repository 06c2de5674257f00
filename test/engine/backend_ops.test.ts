// Every CPU backend op against a plain float64 JavaScript reference, in both CPU modes, on ragged
// shapes (not multiples of 8/32 or of the thread count) — llama.cpp's test-backend-ops habit.
// The Metal work reuses runBackendOp with backend "metal-emu" to compare against these.
import { describe, expect, it } from "vitest";
import { loadAddon } from "../../src/engine/native_addon.js";
import { expectClose, expertOpArgs, fromBf16, int4At, randBf16, randF32, randInt4, rng, toBf16 } from "../helpers/backend_tensors.js";

const addon = loadAddon();

/** y = x·wᵀ in float64 plus Σ|w·x| per output (the scale errors are measured against). */
function refMatmul(x: Float32Array, n: number, rows: number, cols: number, wAt: (o: number, i: number) => number) {
  const y = new Float64Array(n * rows);
  const mag = new Float64Array(n * rows);
  for (let t = 0; t < n; t++)
    for (let o = 0; o < rows; o++) {
      let s = 0;
      let m = 0;
      for (let i = 0; i < cols; i++) {
        const p = wAt(o, i) * x[t * cols + i]!;
        s += p;
        m += Math.abs(p);
      }
      y[t * rows + o] = s;
      mag[t * rows + o] = m;
    }
  return { y, mag };
}

const MODES = ["exact", "fast"] as const;
const THREADS = [1, 3];
// Every kernel tier this CPU runs (scalar, avx2, and avx512 on CPUs with AVX-512 VNNI) is checked
// against the same float64 reference, so a tier that CI's CPU lacks is still covered wherever the
// suite runs on one that has it.
const ISAS: string[] = addon.cpuIsas;
const CASES = MODES.flatMap((cpuMode) => ISAS.map((isa) => [cpuMode, isa] as const));

describe("kernel tiers", () => {
  it("lists the tiers this CPU runs, portable scalar first, and the engine's default among them", () => {
    expect(ISAS[0]).toBe("scalar");
    expect(ISAS).toContain(addon.cpuIsa);
    if (process.arch === "x64") expect(ISAS).toContain("avx2");
  });

  it("refuses a tier this CPU does not run", () => {
    expect(() => addon.runBackendOp("cpu", "add", { y: new Float32Array(1), x: new Float32Array(1) }, { isa: "sse9" })).toThrow(/sse9 does not run/);
  });
});

describe.each(CASES)("cpu backend ops (%s mode, %s kernels)", (cpuMode, isa) => {
  // Fast mode quantizes activations to int16 per 32 for INT4 weights: ~1/65534 of a group's max.
  const int4RelTol = cpuMode === "exact" ? 2e-6 : 2e-4;

  it.each(THREADS)("matmul_bf16 on ragged shapes (%i threads)", (threads) => {
    const r = rng(1);
    for (const [n, rows, cols] of [
      [1, 37, 45],
      [5, 70, 136],
      [13, 19, 7],
      [66, 41, 33], // panel GEMM with a K tail not a multiple of 8
      [30, 16, 512],
    ] as const) {
      const x = randF32(r, n * cols);
      const w = randBf16(r, rows * cols);
      const y = addon.runBackendOp("cpu", "matmul_bf16", { x, n, w, rows, cols }, { threads, cpuMode, isa }) as Float32Array;
      const ref = refMatmul(x, n, rows, cols, (o, i) => fromBf16(w[o * cols + i]!));
      expectClose(y, ref.y, (i) => 2e-6 * ref.mag[i]! + 1e-6, `matmul_bf16 ${n}x${rows}x${cols}`);
    }
  });

  it.each(THREADS)("matmul_bf16_multi: several matrices on the same activations, each product as its own matmul (%i threads)", (threads) => {
    const r = rng(11);
    // Row counts not multiples of the 16-row panel, so chunks straddle the end of one matrix.
    for (const [n, cols, rowsList] of [
      [1, 72, [37, 5, 16, 50]],
      [3, 40, [9, 33]],
      [30, 64, [17, 40, 1]], // GEMM path
    ] as const) {
      const x = randF32(r, n * cols);
      const mats = rowsList.map((rows) => ({ rows, w: randBf16(r, rows * cols) }));
      const y = addon.runBackendOp("cpu", "matmul_bf16_multi", { x, n, cols, mats }, { threads, cpuMode, isa }) as Float32Array;
      expect(y.length).toBe(n * rowsList.reduce((a, b) => a + b, 0));
      let off = 0;
      for (const { rows, w } of mats) {
        const ref = refMatmul(x, n, rows, cols, (o, i) => fromBf16(w[o * cols + i]!));
        expectClose(y.subarray(off, off + n * rows), ref.y, (i) => 2e-6 * ref.mag[i]! + 1e-6, `matmul_bf16_multi ${n}x${rows}x${cols}`);
        off += n * rows;
      }
    }
  });

  it.each(THREADS)("matmul_int4 dequantizes in the kernel (%i threads)", (threads) => {
    const r = rng(2);
    for (const [n, rows, cols] of [
      [1, 33, 96],
      [1, 21, 288], // decode kernels: 8-group scale vectors, then a group tail (odd count)
      [1, 18, 512],
      [1, 21, 1120], // avx512: two 16-group scale chunks, then a 3-group block
      [3, 10, 800], // avx512: 3 token rows share each unpacked block; 25 groups
      [6, 50, 160],
      [9, 17, 32],
      [4, 3, 64],
      [7, 9, 96], // exact: a block of 4 token rows, then 3
      [13, 20, 64], // exact mode: panel GEMM from 12 token rows
      [40, 35, 288], // both modes: panel GEMM, K not a multiple of the 256-wide panel
    ] as const) {
      const x = randF32(r, n * cols);
      const w = randInt4(r, rows, cols);
      const y = addon.runBackendOp("cpu", "matmul_int4", { x, n, packed: w.packed, scales: w.scales, rows, cols }, { threads, cpuMode, isa }) as Float32Array;
      const ref = refMatmul(x, n, rows, cols, (o, i) => int4At(w, o, i));
      expectClose(y, ref.y, (i) => int4RelTol * ref.mag[i]! + 1e-6, `matmul_int4 ${n}x${rows}x${cols}`);
    }
  });

  it("matmul_int4 reads element 0 from the low nibble, offset by 8", () => {
    // One row, 32 inputs: nibbles 0..7 of word 0 hold q = 8 + i (i < 8), everything else q = 8 (zero).
    const packed = new Uint32Array(4).fill(0x88888888);
    packed[0] = 0xfedcba98 >>> 0; // low nibble 8 (=0), then 9 (=1), ... 15 (=7)
    const scales = new Uint16Array([toBf16(0.5)]);
    const x = new Float32Array(32);
    x[1] = 1; // element 1 -> q 9 -> (9-8)*0.5
    x[7] = 10; // element 7 -> q 15 -> 3.5
    const y = addon.runBackendOp("cpu", "matmul_int4", { x, n: 1, packed, scales, rows: 1, cols: 32 }, { cpuMode, isa }) as Float32Array;
    expect(y[0]).toBeCloseTo(0.5 + 35, cpuMode === "exact" ? 5 : 2);
  });

  it("embed_bf16 copies the selected rows", () => {
    const r = rng(3);
    const table = randBf16(r, 11 * 9);
    const ids = new Int32Array([3, 0, 10, 3]);
    const out = addon.runBackendOp("cpu", "embed_bf16", { table, rows: 11, cols: 9, ids }, { cpuMode, isa }) as Float32Array;
    const want = Array.from(ids).flatMap((id) => Array.from(table.subarray(id * 9, id * 9 + 9), fromBf16));
    expectClose(out, want, () => 0, "embed");
    expect(() => addon.runBackendOp("cpu", "embed_bf16", { table, rows: 11, cols: 9, ids: new Int32Array([11]) }, { cpuMode, isa })).toThrow(/token id 11/);
  });

  it("rmsnorm normalises a strided sub-range in place", () => {
    const r = rng(4);
    const n = 5, dim = 19, stride = 27, eps = 1e-5;
    const x = randF32(r, n * stride, 3);
    const w = randBf16(r, dim);
    const out = addon.runBackendOp("cpu", "rmsnorm", { x, n, dim, stride, w, eps }, { cpuMode, isa }) as Float32Array;
    const want = Array.from(x, Number);
    for (let t = 0; t < n; t++) {
      let ss = 0;
      for (let k = 0; k < dim; k++) ss += x[t * stride + k]! ** 2;
      const inv = 1 / Math.sqrt(ss / dim + eps);
      for (let k = 0; k < dim; k++) want[t * stride + k] = x[t * stride + k]! * inv * fromBf16(w[k]!);
    }
    expectClose(out, want, (i) => 1e-5 * Math.abs(want[i]!) + 1e-6, "rmsnorm");
  });

  it.each(THREADS)("rope rotates interleaved pairs per head (%i threads)", (threads) => {
    const r = rng(5);
    const n = 37, heads = 2, headStride = 10, ropeDim = 6, rowStride = 23; // 37 rows: split across the pool
    const x = randF32(r, n * rowStride);
    const pos = Int32Array.from({ length: n }, (_, t) => (t === 2 ? 300 : t * 7));
    const invFreq = new Float32Array([1, 0.1, 0.001]);
    const out = addon.runBackendOp("cpu", "rope", { x, n, nHeads: heads, rowStride, headStride, ropeDim, pos, invFreq }, { threads, cpuMode, isa }) as Float32Array;
    const want = Array.from(x, Number);
    for (let t = 0; t < n; t++)
      for (let h = 0; h < heads; h++)
        for (let i = 0; i < ropeDim / 2; i++) {
          const a = pos[t]! * invFreq[i]!;
          const o = t * rowStride + h * headStride + 2 * i;
          want[o] = x[o]! * Math.cos(a) - x[o + 1]! * Math.sin(a);
          want[o + 1] = x[o]! * Math.sin(a) + x[o + 1]! * Math.cos(a);
        }
    expectClose(out, want, () => 1e-5, "rope");
  });

  // Query rows and positions: decode-sized batches split the context into parts merged at the
  // end (parts of >= 128 rows, so the long contexts here make several), prefill-sized ones run a
  // token per work item over its whole context.
  const MLA_CASES: [string, number[], number][] = [
    ["4 queries, short context (groups of heads per item)", [0, 3, 9, 10], 11],
    ["1 query, short context (groups of heads per item)", [40], 41],
    ["1 query over 700 positions (split context)", [699], 700],
    ["3 queries over up to 600 positions (split context)", [100, 400, 599], 600],
    ["7 queries (a token per item)", [5, 60, 61, 130, 200, 298, 299], 300],
  ];
  type MlaDims = { nHeads: number; nopeDim: number; ropeDim: number; vDim: number; kvLora: number };
  const SMALL_MLA: MlaDims = { nHeads: 3, nopeDim: 8, ropeDim: 6, vDim: 5, kvLora: 20 };
  // Wider than one 64-column register tile with a ragged end, heads not a multiple of 4: the
  // AVX-512 kernel's tails.
  const WIDE_MLA: MlaDims = { nHeads: 9, nopeDim: 16, ropeDim: 40, vDim: 8, kvLora: 144 };
  it.each(THREADS.flatMap((t) => MLA_CASES.map((c) => [t, ...c] as const)))("mla_attention (absorbed) matches naive per-head attention (%i threads, %s)", (threads, _name, positions, nCtx) => {
    checkMla(threads, positions, nCtx, SMALL_MLA);
  });
  it.each(THREADS)("mla_attention with wide latents and 9 heads matches naive attention (%i threads)", (threads) => {
    checkMla(threads, [299], 300, WIDE_MLA);
    checkMla(threads, [3, 17, 40, 41, 100, 150], 151, WIDE_MLA);
  });
  function checkMla(threads: number, positions: number[], nCtx: number, dims: MlaDims) {
    const r = rng(6);
    const { nHeads, nopeDim, ropeDim, vDim, kvLora } = dims;
    const nTokens = positions.length;
    const qk = nopeDim + ropeDim;
    const q = randF32(r, nTokens * nHeads * qk);
    const kvB = randBf16(r, nHeads * (nopeDim + vDim) * kvLora, 0.5);
    const cacheC = randF32(r, nCtx * kvLora);
    const cachePe = randF32(r, nCtx * ropeDim);
    const pos = Int32Array.from(positions);
    const softmaxScale = 0.3;
    const out = addon.runBackendOp(
      "cpu",
      "mla_attention",
      { nTokens, nHeads, nopeDim, ropeDim, vDim, kvLora, nCtx, q, kvB, cacheC, cachePe, pos, softmaxScale },
      { threads, cpuMode, isa },
    ) as Float32Array;
    // Naive: expand K = W_uk·c, V = W_uv·c per head, then softmax(q·k)·v.
    const W = (h: number, row: number, j: number) => fromBf16(kvB[(h * (nopeDim + vDim) + row) * kvLora + j]!);
    const want: number[] = [];
    for (let t = 0; t < nTokens; t++)
      for (let h = 0; h < nHeads; h++) {
        const qh = q.subarray((t * nHeads + h) * qk, (t * nHeads + h + 1) * qk);
        // q·(W_uk·c) = (W_ukᵀ·q)·c: the absorbed query, computed once per head in float64.
        const qLat = new Float64Array(kvLora);
        for (let i = 0; i < nopeDim; i++) for (let j = 0; j < kvLora; j++) qLat[j] += qh[i]! * W(h, i, j);
        const scores: number[] = [];
        for (let c = 0; c <= pos[t]!; c++) {
          let s = 0;
          for (let j = 0; j < kvLora; j++) s += qLat[j]! * cacheC[c * kvLora + j]!;
          for (let i = 0; i < ropeDim; i++) s += qh[nopeDim + i]! * cachePe[c * ropeDim + i]!;
          scores.push(s * softmaxScale);
        }
        const mx = Math.max(...scores);
        const p = scores.map((s) => Math.exp(s - mx));
        const sum = p.reduce((a, b) => a + b, 0);
        const oLat = new Float64Array(kvLora);
        for (let c = 0; c <= pos[t]!; c++) for (let j = 0; j < kvLora; j++) oLat[j] += (p[c]! / sum) * cacheC[c * kvLora + j]!;
        for (let v = 0; v < vDim; v++) {
          let o = 0;
          for (let j = 0; j < kvLora; j++) o += W(h, nopeDim + v, j) * oLat[j]!;
          want.push(o);
        }
      }
    expectClose(out, want, (i) => 1e-5 + 1e-5 * Math.abs(want[i]!), "mla_attention");
  }

  it.each([
    [1, 1],
    [4, 2],
  ])("router_topk: sigmoid scores, bias for selection only, groups %i keep %i", (nGroup, topkGroup) => {
    const r = rng(7);
    const nTokens = 37, nExperts = 16, topK = 3, scaling = 2.5; // 37 tokens: split across the pool
    const logits = randF32(r, nTokens * nExperts, 3);
    const bias = randF32(r, nExperts, 0.5);
    const got = addon.runBackendOp(
      "cpu",
      "router_topk",
      { nTokens, nExperts, topK, nGroup, topkGroup, normTopkProb: true, scaling, logits, bias },
      { threads: 3, cpuMode, isa },
    ) as { ids: Int32Array; weights: Float32Array };
    const per = nExperts / nGroup;
    for (let t = 0; t < nTokens; t++) {
      const s = Array.from(logits.subarray(t * nExperts, (t + 1) * nExperts), (l) => 1 / (1 + Math.exp(-l)));
      const sel = s.map((v, e) => v + bias[e]!);
      const groupScore = Array.from({ length: nGroup }, (_, g) => {
        const top = sel.slice(g * per, (g + 1) * per).sort((a, b) => b - a);
        return top[0]! + (top[1] ?? 0);
      });
      const keep = new Set(
        groupScore
          .map((v, g) => [v, g] as const)
          .sort((a, b) => b[0] - a[0])
          .slice(0, topkGroup)
          .map(([, g]) => g),
      );
      const chosen = sel
        .map((v, e) => [keep.has(Math.floor(e / per)) ? v : -Infinity, e] as const)
        .sort((a, b) => b[0] - a[0])
        .slice(0, topK)
        .map(([, e]) => e);
      const sum = chosen.reduce((a, e) => a + s[e]!, 0);
      expect(Array.from(got.ids.subarray(t * topK, (t + 1) * topK))).toEqual(chosen);
      const wantW = chosen.map((e) => (s[e]! / sum) * scaling);
      expectClose(got.weights.subarray(t * topK, (t + 1) * topK), wantW, () => 1e-5, `router weights token ${t}`);
    }
  });

  it.each([
    [3, 13, 29],
    [7, 9001, 200003], // large enough to be split across the pool
  ])("swiglu (%i x %i) and add (%i)", (n, dim, len) => {
    const r = rng(8);
    const gate = randF32(r, n * dim, 4);
    const up = randF32(r, n * dim);
    const out = addon.runBackendOp("cpu", "swiglu", { gate, up, n, dim }, { threads: 3, cpuMode, isa }) as Float32Array;
    const want = Array.from(gate, (g, i) => (g / (1 + Math.exp(-g))) * up[i]!);
    expectClose(out, want, (i) => 1e-6 + 1e-6 * Math.abs(want[i]!), "swiglu");
    const y = randF32(r, len);
    const x = randF32(r, len);
    const sum = addon.runBackendOp("cpu", "add", { y, x }, { threads: 3, cpuMode, isa }) as Float32Array;
    expectClose(sum, Array.from(y, (v, i) => v + x[i]!), () => 1e-7, "add");
  });

  type MoeGroupCase = { expert: number; rows: Int32Array; weights: Float32Array };
  // Runs the backend's grouped experts and checks every output against a float64 reference.
  const checkMoe = (threads: number, seed: number, n: number, dim: number, inter: number, nExperts: number, makeGroups: (r: () => number) => MoeGroupCase[]) => {
    const r = rng(seed);
    const x = randF32(r, n * dim);
    const out0 = randF32(r, n * dim);
    const experts = Array.from({ length: nExperts }, () => ({ gate: randInt4(r, inter, dim), up: randInt4(r, inter, dim), down: randInt4(r, dim, inter) }));
    const groups = makeGroups(r);
    const out = addon.runBackendOp(
      "cpu",
      "moe_experts",
      {
        x,
        n,
        dim,
        inter,
        out: out0,
        experts: experts.map(expertOpArgs),
        groups,
      },
      { threads, cpuMode, isa },
    ) as Float32Array;
    const want = Array.from(out0, Number);
    const mag = new Array<number>(n * dim).fill(0);
    for (const g of groups) {
      const e = experts[g.expert]!;
      g.rows.forEach((row, j) => {
        const xr = x.subarray(row * dim, (row + 1) * dim);
        const h: number[] = [];
        for (let o = 0; o < inter; o++) {
          let a = 0, b = 0;
          for (let i = 0; i < dim; i++) {
            a += int4At(e.gate, o, i) * xr[i]!;
            b += int4At(e.up, o, i) * xr[i]!;
          }
          h.push((a / (1 + Math.exp(-a))) * b);
        }
        for (let d = 0; d < dim; d++) {
          let y = 0, m = 0;
          for (let o = 0; o < inter; o++) {
            y += int4At(e.down, d, o) * h[o]!;
            m += Math.abs(int4At(e.down, d, o) * h[o]!);
          }
          want[row * dim + d] += g.weights[j]! * y;
          mag[row * dim + d] += Math.abs(g.weights[j]!) * m;
        }
      });
    }
    expectClose(out, want, (i) => 1e-5 + (cpuMode === "exact" ? 1e-5 : 1e-3) * mag[i]!, "moe_experts");
  };

  it.each(THREADS)("moe_experts accumulates weighted SwiGLU experts into the token rows (%i threads)", (threads) => {
    const n = 37;
    checkMoe(threads, 9, n, 64, 96, 3, () => {
      // Small groups take the row kernels; the 35-row group takes the panel GEMM in both modes.
      const big = Int32Array.from({ length: 35 }, (_, i) => (i * 5 + 1) % n);
      return [
        { expert: 2, rows: new Int32Array([0, 3, 4]), weights: new Float32Array([0.5, 1.25, 0.75]) },
        { expert: 0, rows: new Int32Array([3]), weights: new Float32Array([2]) },
        // one-row groups of the same token share its int16 row in fast mode; another token's does not
        { expert: 1, rows: new Int32Array([3]), weights: new Float32Array([0.4]) },
        { expert: 2, rows: new Int32Array([1]), weights: new Float32Array([0.7]) },
        { expert: 1, rows: new Int32Array([1, 0, 2, 4]), weights: new Float32Array([0.3, 0.6, 0.9, 1.2]) },
        { expert: 0, rows: big, weights: Float32Array.from(big, (_, i) => 0.1 + i / 50) },
      ];
    });
  });

  it.each(THREADS)("moe_experts with only row-kernel groups, as decode sends them (%i threads)", (threads) => {
    // One token in 8 experts, as decode sends it, plus a second token sharing two of them: no
    // group is big enough for the GEMM.
    checkMoe(threads, 12, 2, 256, 64, 8, () => [
      ...Array.from({ length: 8 }, (_, e) => ({ expert: e, rows: new Int32Array(e < 2 ? [0, 1] : [0]), weights: new Float32Array(e < 2 ? [0.1 + e / 8, 0.9] : [0.1 + e / 8]) })),
    ]);
  });

  it("moe_experts gives decode the same bits whatever the thread count and schedule", () => {
    // Decode's down pass hands out pieces of each expert to whichever thread is free; the sums
    // into the token row must still happen in one fixed order.
    const r = rng(16);
    const dim = 320, inter = 64, n = 1;
    const experts = Array.from({ length: 8 }, () => expertOpArgs({ gate: randInt4(r, inter, dim), up: randInt4(r, inter, dim), down: randInt4(r, dim, inter) }));
    const groups = experts.map((_, g) => ({ expert: g, rows: new Int32Array([0]), weights: new Float32Array([0.05 + g / 9]) }));
    const x = randF32(r, n * dim), out = randF32(r, n * dim);
    const run = (threads: number) => addon.runBackendOp("cpu", "moe_experts", { n, dim, inter, x, out, experts, groups }, { threads, cpuMode, isa }) as Float32Array;
    const one = run(1);
    for (const threads of [2, 3, 4, 8, 2, 3])
      if (!run(threads).every((v, i) => v === one[i])) expect.fail(`${threads} threads: output differs from 1 thread`);
  });

  it.each(THREADS)("moe_experts with decode-sized groups over more tokens than per-thread sums hold (%i threads)", (threads) => {
    // Groups of at most 2 rows (decode's down pass splits by expert and sums per thread) but 7
    // token rows, which takes the split by output slices instead; both must agree with the reference.
    const n = 7;
    checkMoe(threads, 15, n, 224, 64, 10, () =>
      Array.from({ length: 10 }, (_, g) => ({
        expert: g,
        rows: Int32Array.from({ length: 1 + (g % 2) }, (_, j) => (g + 3 * j) % n),
        weights: Float32Array.from({ length: 1 + (g % 2) }, (_, j) => 0.3 + (g + j) / 7),
      })),
    );
  });

  it.each(THREADS)("moe_experts_with gives exactly moe_experts and the BF16 product computed apart (%i threads)", (threads) => {
    // The shared expert's down projection rides along in the gate/up pass: decode (one token, 8
    // experts, 1792 product rows cut into several units) and a prefill-sized chunk (GEMM groups and
    // a 40-token product).
    const r = rng(14);
    for (const [n, withN, nExperts, rowsPer] of [
      [1, 1, 8, 1],
      [40, 40, 3, 30],
    ] as const) {
      const dim = 96, inter = 64, rows = 1792, cols = inter;
      const experts = Array.from({ length: nExperts }, () =>
        expertOpArgs({ gate: randInt4(r, inter, dim), up: randInt4(r, inter, dim), down: randInt4(r, dim, inter) }),
      );
      const groups = Array.from({ length: nExperts }, (_, g) => ({
        expert: g,
        rows: Int32Array.from({ length: rowsPer }, (_, j) => (g * 3 + j) % n),
        weights: Float32Array.from({ length: rowsPer }, (_, j) => 0.25 + (g + j) / 10),
      }));
      const x = randF32(r, n * dim), out = randF32(r, n * dim);
      const withArgs = { x: randF32(r, withN * cols), n: withN, w: randBf16(r, rows * cols), rows, cols };
      const opts = { threads, cpuMode, isa };
      const both = addon.runBackendOp("cpu", "moe_experts_with", { n, dim, inter, x, out, experts, groups, with: withArgs }, opts) as {
        out: Float32Array;
        y: Float32Array;
      };
      const alone = addon.runBackendOp("cpu", "moe_experts", { n, dim, inter, x, out, experts, groups }, opts) as Float32Array;
      const y = addon.runBackendOp("cpu", "matmul_bf16", { x: withArgs.x, n: withN, w: withArgs.w, rows, cols }, opts) as Float32Array;
      expect(both.y.length).toBe(withN * rows);
      if (!both.out.every((v, i) => v === alone[i])) expect.fail(`n=${n}: experts' output differs from moe_experts alone`);
      if (!both.y.every((v, i) => v === y[i])) expect.fail(`n=${n}: the product differs from matmul_bf16 alone`);
      // and the inputs were used: the product is not zero
      expect(both.y.some((v) => v !== 0)).toBe(true);
    }
  });

  it.each(THREADS)("moe_experts with many small groups whose tokens repeat across groups (%i threads)", (threads) => {
    // 40 experts x 9 rows, each token in about 7 groups: every output slice sums many groups.
    const n = 50;
    checkMoe(threads, 13, n, 192, 32, 40, () =>
      Array.from({ length: 40 }, (_, g) => ({
        expert: g,
        rows: Int32Array.from({ length: 9 }, (_, j) => (g * 7 + j * 11) % n),
        weights: Float32Array.from({ length: 9 }, (_, j) => 0.2 + ((g + j) % 5) / 4),
      })),
    );
  });
});

describe("thread pool", () => {
  it("runs thousands of back-to-back parallel regions of varying size without losing or repeating work", () => {
    // Regression: a late worker could claim a chunk of the next job, double-count it and hang the
    // caller. Many short regions with changing chunk counts make that interleaving likely.
    // Each thread takes its own run of chunks and steals from others' when done: 2 to 8 threads on
    // this machine's cores (more threads than cores makes descheduled owners and steals common).
    // Every output row is computed by one thread, so any split must give the 1-thread result bit
    // for bit.
    const r = rng(11);
    const cols = 24;
    for (let i = 0; i < 3000; i++) {
      const rows = 17 + ((i * 37) % 300);
      const x = randF32(r, cols);
      const w = randBf16(r, rows * cols);
      const threads = [2, 3, 4, 8][i % 4]!;
      const y = addon.runBackendOp("cpu", "matmul_bf16", { x, n: 1, w, rows, cols }, { threads }) as Float32Array;
      const one = addon.runBackendOp("cpu", "matmul_bf16", { x, n: 1, w, rows, cols }, { threads: 1 }) as Float32Array;
      if (!y.every((v, j) => v === one[j])) expect.fail(`iteration ${i} (${threads} threads, ${rows} rows) differs from 1 thread`);
      if (i % 500 === 0) {
        const ref = refMatmul(x, 1, rows, cols, (o, k) => fromBf16(w[o * cols + k]!));
        expectClose(y, ref.y, (j) => 2e-6 * ref.mag[j]! + 1e-6, `iteration ${i}`);
      }
    }
  });
});

describe("runBackendOp errors", () => {
  it("names an unknown backend and op", () => {
    expect(() => addon.runBackendOp("tpu", "add", { y: new Float32Array(1), x: new Float32Array(1) })).toThrow(/unknown backend "tpu"/);
    expect(() => addon.runBackendOp("cpu", "conv2d", {})).toThrow(/unknown op "conv2d"/);
    expect(() => addon.runBackendOp("cpu", "matmul_bf16", { n: 1, rows: 2, cols: 3, x: new Float32Array(3), w: new Uint16Array(5) })).toThrow(/args.w has 5 elements, expected 6/);
  });

  it("measures memory bandwidth as a positive number of GB/s", () => {
    const gbps = addon.measureMemoryBandwidth(64 << 20, 1);
    expect(gbps).toBeGreaterThan(0.1);
    expect(() => addon.measureMemoryBandwidth(1000, 1)).toThrow(/at least 1 MiB/);
  });

  it("kernel bench refuses a repetition count below 1", () => {
    expect(() => addon.benchCpuKernels(0)).toThrow(/reps must be >= 1, got 0/);
    expect(() => (addon.benchCpuKernels as (r?: unknown) => unknown)("x")).toThrow(/benchCpuKernels\(reps, isa\?\)/);
    expect(() => addon.benchCpuKernels(1, "sse9")).toThrow(/kernel tier sse9 does not run on this CPU/);
  });
});
