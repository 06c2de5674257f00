// Simulator throughput: expert accesses per second each eviction policy replays at K2's shape
// (60 MoE layers x 8 experts per token) with a 128 GB Mac's cache, against lru measured in the
// same process (the O(1) baseline). `k2 simulate` runs policies x machines over such traces.
// Run: `npm run bench -- simulate`, or `node dist/bench/expert_sim_bench.js`.
import { pathToFileURL } from "node:url";
import { kimiK2CostShape } from "../src/cli/experts/model_cost_shape.js";
import { findProfile } from "../src/cli/experts/mac_profiles.js";
import { expertSimAddon, POLICY_NAMES, type PolicyName } from "../src/cli/experts/sim_addon.js";
import { machineMemoryPlan } from "../src/cli/experts/throughput_model.js";

export interface SimBenchResult {
  tokens: number;
  capacity: number;
  accessesPerSec: Record<PolicyName, number>;
}

export async function run(): Promise<SimBenchResult> {
  const shape = kimiK2CostShape();
  const plan = machineMemoryPlan(shape, findProfile("mac128")!, 0.75, 32768);
  if ("doesNotFit" in plan) throw new Error(plan.doesNotFit);
  const tokens = 2000;
  const source = { shape: shape.route, synthetic: { tokens, zipf: 0.9, reuse: 0.35, seed: 1 } };
  const accesses = tokens * shape.route.moeLayers.length * shape.route.topK;
  const addon = expertSimAddon();
  const best: Record<string, number> = {};
  // Best of 3: the machine is shared, the fastest run is the least disturbed one.
  for (let rep = 0; rep < 3; rep++) {
    const out = addon.simulateExpertCache(source, POLICY_NAMES.map((policy) => ({ policy, capacity: plan.cachedExperts, pinFraction: 0.125 })));
    for (const r of out.runs) best[r.policy] = Math.max(best[r.policy] ?? 0, accesses / r.seconds);
  }
  const lru = best.lru!;
  console.log(`expert cache simulator: K2 shape, ${tokens} synthetic tokens (${(accesses / 1e6).toFixed(2)} M accesses), ${plan.cachedExperts} slots (128 GB Mac):`);
  for (const p of POLICY_NAMES) console.log(`  ${p}: ${(best[p]! / 1e6).toFixed(2)} M accesses/s (x${(best[p]! / lru).toFixed(2)} of lru)`);
  return { tokens, capacity: plan.cachedExperts, accessesPerSec: best as Record<PolicyName, number> };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await run();
