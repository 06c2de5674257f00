// The simulator against the engine's real expert cache (ExpertCacheProbe over the tiny fixture's
// shards): one trace, one policy, one size, replayed through both, must count the same hits and
// misses. Both take a layer's already-resident experts before its misses make room; no pinning
// (its ties are broken by slot order in the engine), no prefetch.
import { describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCheckpointPlan } from "../../src/engine/checkpoint/load_checkpoint_plan.js";
import { expertSlotBytes } from "../../src/engine/memory_plan.js";
import { loadAddon } from "../../src/engine/native_addon.js";
import { expertSimAddon, POLICY_NAMES } from "../../src/cli/experts/sim_addon.js";

const DIR = fileURLToPath(new URL("../../../shared/fixtures/kimi-k2-tiny", import.meta.url));

describe("simulator vs the engine's expert cache", () => {
  it.each(POLICY_NAMES.flatMap((policy) => [1, 4].map((topK) => [policy, topK] as const)))("%s, top-%d: same hits and misses at every cache size", async (policy, topK) => {
    const { plan } = await loadCheckpointPlan(DIR);
    const slotBytes = expertSlotBytes(plan);
    const shape = { nLayers: 3, moeLayers: [1, 2], nExperts: 16, topK };
    const dir = mkdtempSync(join(tmpdir(), "k2-simcache-"));
    try {
      const path = join(dir, "t.k2routes");
      const sim = expertSimAddon();
      sim.writeRouteTrace(path, { shape, synthetic: { tokens: 300, zipf: 0.9, reuse: 0.35, seed: 7 } });
      const trace = sim.readRouteTrace(path);
      for (const slots of [topK + 1, topK + 3, 8, 12, 20]) {
        const cache = new (loadAddon().ExpertCacheProbe)(plan, { capacityBytes: slots * slotBytes, policy, pinFraction: 0 });
        for (let t = 0; t < trace.tokens; t++)
          shape.moeLayers.forEach((layer, m) => {
            const at = (t * 2 + m) * topK;
            cache.acquire(layer, Array.from(trace.ids.subarray(at, at + topK)));
            cache.release(layer);
          });
        const engine = cache.stats();
        const [r] = sim.simulateExpertCache({ trace: path }, [{ policy, capacity: slots, warmup: 0 }]).runs;
        expect({ slots, hits: engine.hits, misses: engine.misses }).toEqual({ slots, hits: r!.hits, misses: r!.misses });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
