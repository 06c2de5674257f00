// The engine against DeepSeek's float64 reference on the tiny K2-layout checkpoint: prefill
// logits, argmax, greedy decoding through the KV cache, decode-vs-prefill agreement and the
// experts the router picks. Exact mode must stay under 2e-3, fast mode under 5e-2, and both must
// reproduce every argmax and greedy token.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openEngine, type NativeEngine } from "../../src/engine/open_engine.js";
import { loadCheckpointPlan } from "../../src/engine/checkpoint/load_checkpoint_plan.js";
import { loadAddon } from "../../src/engine/native_addon.js";

const DIR = fileURLToPath(new URL("../../../shared/fixtures/kimi-k2-tiny", import.meta.url));

interface Golden {
  prompt_ids: number[];
  prompt_logits: number[][];
  greedy_ids: number[];
  greedy_logits: number[][];
  prompt_routes: Record<string, number[][]>;
}
const golden = JSON.parse(readFileSync(`${DIR}/golden.json`, "utf8")) as Golden;

const argmax = (r: ArrayLike<number>) => {
  let b = 0;
  for (let i = 1; i < r.length; i++) if (r[i]! > r[b]!) b = i;
  return b;
};
function maxDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i]! - want[i]!));
  return m;
}

describe.each([
  ["exact", 2e-3],
  ["fast", 5e-2],
] as const)("golden logits, %s mode", (cpuMode, tol) => {
  let engine: NativeEngine;
  beforeAll(async () => {
    engine = await openEngine(DIR, { cpuMode, threads: 2 });
  });
  afterAll(() => engine?.dispose());

  it("prefill logits match the float64 reference at every position, with the same argmax", async () => {
    const s = engine.createSession();
    const rows = await s.logits(golden.prompt_ids);
    expect(rows.length).toBe(golden.prompt_ids.length);
    let worst = 0;
    rows.forEach((row, t) => {
      worst = Math.max(worst, maxDiff(row, golden.prompt_logits[t]!));
      expect(argmax(row), `argmax at position ${t}`).toBe(argmax(golden.prompt_logits[t]!));
    });
    expect(worst).toBeLessThan(tol);
    s.dispose();
  });

  it("greedy generation reproduces all golden tokens and reports stats", async () => {
    const s = engine.createSession();
    const ids: number[] = [];
    let stats;
    for await (const ev of s.generate(golden.prompt_ids, { temperature: 0, maxTokens: golden.greedy_ids.length, stopIds: [] })) {
      if (ev.type === "token") {
        expect(ev.index).toBe(ids.length);
        ids.push(ev.id);
      } else stats = ev.stats;
    }
    expect(ids).toEqual(golden.greedy_ids);
    expect(stats).toMatchObject({
      promptTokens: golden.prompt_ids.length,
      reusedTokens: 0,
      prefilledTokens: golden.prompt_ids.length,
      generatedTokens: golden.greedy_ids.length,
      finishReason: "length",
    });
    // The last sampled token is not run through the model, everything before it is cached.
    expect(s.tokens).toEqual([...golden.prompt_ids, ...golden.greedy_ids.slice(0, -1)]);
    s.dispose();
  });

  it("logits of a full prefill over prompt + greedy tokens match the golden decode logits", async () => {
    const s = engine.createSession();
    const all = [...golden.prompt_ids, ...golden.greedy_ids];
    const rows = await s.logits(all);
    // greedy_logits[k] chose greedy_ids[k+1]: it is the row after greedy_ids[k].
    let worst = 0;
    for (let k = 0; k + 1 < golden.greedy_logits.length; k++) {
      const row = rows[golden.prompt_ids.length + k]!;
      worst = Math.max(worst, maxDiff(row, golden.greedy_logits[k]!));
      expect(argmax(row)).toBe(golden.greedy_ids[k + 1]);
    }
    expect(worst).toBeLessThan(tol);
    s.dispose();
  });

  it("one-token decode steps through the KV cache agree with batched prefill", async () => {
    const { plan } = await loadCheckpointPlan(DIR, { cpuMode, threads: 2 });
    const native = new (loadAddon().NativeEngine)(plan);
    const V = golden.prompt_logits[0]!.length;
    const ids = golden.prompt_ids;
    const s = native.createSession(128);
    const batched = (await s.prefill(Int32Array.from(ids), "all"))!;
    s.truncate(0);
    const split = 17; // a prefill chunk, then single-token decode steps
    await s.prefill(Int32Array.from(ids.slice(0, split)), "none");
    let worst = 0;
    for (let t = split; t < ids.length; t++) {
      const row = (await s.prefill(Int32Array.of(ids[t]!), "last"))!;
      worst = Math.max(worst, maxDiff(row, batched.subarray(t * V, (t + 1) * V)));
    }
    expect(Array.from(s.tokens())).toEqual(ids);
    expect(worst).toBeLessThan(cpuMode === "exact" ? 1e-4 : 1e-2);
    s.dispose();
    native.dispose();
  });

  it("the router picks the golden experts for every prompt token", async () => {
    const s = engine.createSession();
    const { routes } = await s.prefillRoutes(golden.prompt_ids);
    const layers = Object.keys(golden.prompt_routes);
    expect(layers.length).toBeGreaterThan(0);
    for (const L of layers) {
      const want = golden.prompt_routes[L]!;
      const k = want[0]!.length;
      want.forEach((experts, t) => {
        const got = Array.from(routes[Number(L)]!.subarray(t * k, (t + 1) * k)).sort((a, b) => a - b);
        expect(got, `layer ${L} token ${t}`).toEqual([...experts].sort((a, b) => a - b));
      });
    }
    s.dispose();
  });
});
