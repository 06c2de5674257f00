// The simulator against the engine's real expert cache (ExpertCacheProbe over the tiny fixture's
// shards): one trace, one policy, one size, replayed through both, must count the same hits and
// misses. Requests of one expert per layer, so the two agree on what a layer's request protects
// (the simulator looks the whole layer up first; the cache, one id at a time); no pinning, no
// prefetch.
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
  it.each(POLICY_NAMES)("%s: same hits and misses at every cache size", async (policy) => {
    const { plan } = await loadCheckpointPlan(DIR);
    const slotBytes = expertSlotBytes(plan);
    const shape = { nLayers: 3, moeLayers: [1, 2], nExperts: 16, topK: 1 };
    const dir = mkdtempSync(join(tmpdir(), "k2-simcache-"));
    try {
      const path = join(dir, "t.k2routes");
      const sim = expertSimAddon();
      sim.writeRouteTrace(path, { shape, synthetic: { tokens: 300, zipf: 0.9, reuse: 0.35, seed: 7 } });
      const trace = sim.readRouteTrace(path);
      for (const slots of [2, 3, 5, 8, 12]) {
        const cache = new (loadAddon().ExpertCacheProbe)(plan, { capacityBytes: slots * slotBytes, policy, pinFraction: 0 });
        for (let t = 0; t < trace.tokens; t++)
          shape.moeLayers.forEach((layer, m) => {
            cache.acquire(layer, [trace.ids[t * 2 + m]!]);
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
