// The engine with experts streamed through a small expert cache: logits and greedy tokens are
// bit-identical to the unbudgeted (all experts mapped) engine, the done stats carry the expert
// telemetry, a shard truncated mid-run is a clear generation error, and the golden check still
// passes with a small budget.
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, mkdtempSync, rmSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCheckpointPlan } from "../../src/engine/checkpoint/load_checkpoint_plan.js";
import { expertSlotBytes, RUNTIME_RESERVE_BYTES } from "../../src/engine/memory_plan.js";
import { openEngine, type NativeEngine } from "../../src/engine/open_engine.js";
import { EngineError } from "../../src/errors.js";
import { collect } from "../helpers/collect_tokens.js";

const DIR = fileURLToPath(new URL("../../../shared/fixtures/kimi-k2-tiny", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const GOLDEN_CHECK = fileURLToPath(new URL("../../../shared/tools/golden-check.mjs", import.meta.url));
const CONTEXT = 256;
// 40 tokens: every expert of both MoE layers is chosen at least once.
const PROMPT = Array.from({ length: 40 }, (_, i) => (i * 97 + 13) % 1536);

/** A budget that leaves exactly `slots` expert slots after dense + KV + reserve. */
async function budgetFor(dir: string, slots: number): Promise<number> {
  const { plan, info } = await loadCheckpointPlan(dir);
  return info.bytes.dense + CONTEXT * info.kvBytesPerToken + RUNTIME_RESERVE_BYTES + slots * expertSlotBytes(plan);
}

describe("engine with a budgeted expert cache", () => {
  let full: NativeEngine;
  let want: { logits: Float32Array[]; ids: number[] };
  beforeAll(async () => {
    full = await openEngine(DIR, { threads: 2, contextSize: CONTEXT });
    const s = full.createSession();
    want = { logits: await s.logits(PROMPT), ids: (await collect(s.generate(PROMPT, { temperature: 0, maxTokens: 12, stopIds: [] }))).ids };
    s.dispose();
  });
  afterAll(() => full?.dispose());

  it("keeps the mapped provider (no telemetry) when every expert fits", async () => {
    expect(full.memoryPlan.streaming).toBe(false);
    expect(full.details.expertCache).toBeUndefined();
    const s = full.createSession();
    const r = await collect(s.generate([1, 2, 3], { temperature: 0, maxTokens: 2, stopIds: [] }));
    expect(r.stats.experts).toBeUndefined();
    s.dispose();
  });

  for (const [io, slots] of [["pread", 5], ["pread", 12], ["mmap", 5]] as const) {
    it(`${io}, ${slots} of 32 experts: logits and greedy tokens are bit-identical to the unbudgeted engine`, async () => {
      const e = await openEngine(DIR, { threads: 2, contextSize: CONTEXT, memoryBudget: await budgetFor(DIR, slots), expertIo: io });
      try {
        expect(e.memoryPlan.streaming).toBe(true);
        expect(e.memoryPlan.cachedExperts).toBe(slots);
        expect(e.details.expertCache?.slots).toBe(slots);
        const s = e.createSession();
        const logits = await s.logits(PROMPT);
        expect(logits.length).toBe(want.logits.length);
        logits.forEach((row, t) => expect(Buffer.from(row.buffer, row.byteOffset, row.byteLength).equals(Buffer.from(want.logits[t]!.buffer, want.logits[t]!.byteOffset, want.logits[t]!.byteLength)), `position ${t}`).toBe(true));
        const r = await collect(s.generate(PROMPT, { temperature: 0, maxTokens: 12, stopIds: [] }));
        expect(r.ids).toEqual(want.ids);
        const x = r.stats.experts!;
        expect(x).toBeDefined();
        expect(x.hits + x.misses).toBeGreaterThan(0);
        expect(x.hitRate).toBeCloseTo(x.hits / (x.hits + x.misses), 12);
        expect(x.bytesRead).toBeGreaterThan(0);
        expect(x.readGBps).toBeGreaterThan(0);
        expect(x.residentBytes).toBeLessThanOrEqual(slots * (full.info.bytes.perExpert + 1));
        expect(x.prefetchPrecision).toBeGreaterThanOrEqual(0);
        expect(x.prefetchPrecision).toBeLessThanOrEqual(1);
        s.dispose();
      } finally {
        e.dispose();
      }
    });
  }

  it("a shard truncated under a running engine fails the generation with the shard and offset", async () => {
    const dir = mkdtempSync(join(tmpdir(), "k2-budget-"));
    try {
      cpSync(DIR, dir, { recursive: true });
      const shard = join(dir, "model-00001-of-00002.safetensors");
      chmodSync(shard, 0o644);
      const { plan } = await loadCheckpointPlan(dir);
      // The last tensor of shard 1 is an expert's: cutting it leaves every dense weight intact.
      const victim = plan.tensors["model.layers.1.mlp.experts.15.down_proj.weight_packed"]!;
      const e = await openEngine(dir, { threads: 2, contextSize: CONTEXT, memoryBudget: await budgetFor(dir, 5) });
      try {
        const s = e.createSession();
        truncateSync(shard, victim.offset + 64);
        let err: unknown;
        try {
          await collect(s.generate(PROMPT, { temperature: 0, maxTokens: 4, stopIds: [] }));
        } catch (x) {
          err = x;
        }
        expect(err).toBeInstanceOf(EngineError);
        expect((err as Error).message).toContain(`generation failed: expert read failed: ${shard} at offset ${victim.offset}`);
        expect((err as Error).message).toContain("short read");
        // Nothing of the failed pass stays in the session.
        expect(s.tokens.length).toBe(0);
        await expect(s.logits(PROMPT)).rejects.toThrow(/expert read failed: .* short read/);
        s.dispose();
      } finally {
        e.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the golden check passes with a budget that streams experts (a few slots; K2_MEMORY_BUDGET_GB)", async () => {
    const gb = (await budgetFor(DIR, 5)) / 1024 ** 3;
    const out = execFileSync(process.execPath, [GOLDEN_CHECK, DIR], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, K2_MEMORY_BUDGET_GB: gb.toFixed(6) },
    });
    expect(out).toMatch(/^PASS /);
  });
});
