// k2 simulate's core: for each machine, the memory plan gives the expert cache's capacity; the
// native simulator replays one routing trace through each policy at that capacity; the
// throughput model turns per-token misses into tok/s. Used by the command, tests and the bench.
import { EngineError, K2Error } from "../../errors.js";
import type { MachineProfile } from "./mac_profiles.js";
import type { ModelCostShape, RouteShape } from "./model_cost_shape.js";
import { expertSimAddon, type PolicyName, type PolicyParams, type RouteSource } from "./sim_addon.js";
import type { MemoryPlan } from "../../engine/memory_plan.js";
import { machineMemoryPlan, throughput, type Throughput } from "./throughput_model.js";

export interface SimulateOptions {
  shape: ModelCostShape;
  source: RouteSource;
  machines: MachineProfile[];
  policies: PolicyName[];
  params: PolicyParams;
  /** Pinning as the engine does it (share of slots, re-chosen every repinTokens tokens). */
  pinning: { pinFraction: number; repinTokens: number };
  budgetFraction: number;
  contextTokens: number;
  /** Tokens not counted in the steady-state figures; undefined: a quarter of the trace. */
  warmup?: number;
}

export interface SimulateRow {
  machine: MachineProfile;
  /** The engine's memory plan on this machine, or why the model does not fit. */
  plan: MemoryPlan | { doesNotFit: string };
  /** Expert slots (every expert when all fit). */
  capacity: number;
  totalExperts: number;
  policy: PolicyName;
  /** Absent when the model does not fit. */
  result?: {
    hitRate: number;
    warmupHitRate: number;
    hits: number;
    misses: number;
    seconds: number;
  } & Throughput;
}

export interface SimulateReport {
  tokens: number;
  warmup: number;
  accesses: number;
  simSeconds: number;
  rows: SimulateRow[];
}

export class TraceShapeError extends K2Error {}

function sameShape(a: RouteShape, b: RouteShape): boolean {
  return a.nLayers === b.nLayers && a.nExperts === b.nExperts && a.topK === b.topK && a.moeLayers.join() === b.moeLayers.join();
}

const describeShape = (s: RouteShape) => `${s.moeLayers.length} MoE layers of ${s.nLayers} x ${s.nExperts} experts, top-${s.topK}`;

export function simulate(o: SimulateOptions): SimulateReport {
  const addon = expertSimAddon();
  const plans = o.machines.map((m) => machineMemoryPlan(o.shape, m, o.budgetFraction, o.contextTokens));
  const capacity = (p: (typeof plans)[number]) => ("doesNotFit" in p ? 0 : p.cachedExperts);
  const totalExperts = o.shape.route.moeLayers.length * o.shape.route.nExperts;
  const runs = [];
  for (const plan of plans)
    for (const policy of o.policies) if (!("doesNotFit" in plan)) runs.push({ policy, capacity: plan.cachedExperts, warmup: o.warmup, ...o.pinning, ...o.params });
  let out;
  try {
    out = addon.simulateExpertCache(o.source, runs);
  } catch (err) {
    throw new EngineError(`simulate: ${(err as Error).message}`, { cause: err });
  }
  if (!sameShape(out.shape, o.shape.route)) {
    throw new TraceShapeError(
      `the trace has ${describeShape(out.shape)} but the model shape (${o.shape.name}) has ${describeShape(o.shape.route)}; ` +
        `pass --model DIR with the checkpoint the trace was recorded from`,
    );
  }
  const warmup = out.runs[0]?.warmup ?? o.warmup ?? Math.floor(out.tokens / 4);
  if (out.tokens <= warmup) throw new K2Error(`simulate: the trace has ${out.tokens} tokens, not more than the ${warmup}-token warm-up (lower --warmup)`);
  const rows: SimulateRow[] = [];
  let next = 0;
  let simSeconds = 0;
  plans.forEach((plan, i) => {
    const machine = o.machines[i]!;
    for (const policy of o.policies) {
      if ("doesNotFit" in plan) {
        rows.push({ machine, plan, capacity: 0, totalExperts, policy });
        continue;
      }
      const r = out.runs[next++]!;
      simSeconds += r.seconds;
      rows.push({
        machine,
        plan,
        capacity: capacity(plan),
        totalExperts,
        policy,
        result: {
          hitRate: r.hits / (r.hits + r.misses),
          warmupHitRate: r.warmupHits + r.warmupMisses > 0 ? r.warmupHits / (r.warmupHits + r.warmupMisses) : 0,
          hits: r.hits,
          misses: r.misses,
          seconds: r.seconds,
          ...throughput(o.shape, machine, o.contextTokens, r.missesPerToken),
        },
      });
    }
  });
  const accessesPerRun = out.tokens * out.shape.moeLayers.length * out.shape.topK;
  return { tokens: out.tokens, warmup, accesses: accessesPerRun * runs.length, simSeconds, rows };
}
