// From a machine and a simulated cache to expected decode speed. The model, stated in
// docs/experts.md:
//  - memory plan: the engine's (src/engine/memory_plan.ts) with budget = memory x budgetFraction:
//    dense weights, the KV cache for the reserved context and a runtime reserve stay resident;
//    the rest holds expert slots;
//  - per token, memory time = (dense bytes read + KV bytes read + every used expert's bytes) /
//    memory bandwidth (decode is memory-bound; a missed expert is computed from memory once it
//    has landed); SSD time = missed experts' bytes / SSD bandwidth;
//  - demand loading waits for each miss: token time = memory time + SSD time ("tok/s");
//    perfect prefetch hides reads behind compute: token time = max of the two ("tok/s bound").
// KV bytes read per token are charged at half the reserved context (the mean position of a
// conversation that fills it).
import { ConfigError } from "../../errors.js";
import { planMemory, type MemoryPlan } from "../../engine/memory_plan.js";
import type { ModelCostShape } from "./model_cost_shape.js";
import type { MachineProfile } from "./mac_profiles.js";

/** A machine's memory is sold in GiB. */
const GIB = 2 ** 30;

/**
 * The engine's own memory plan (src/engine/memory_plan.ts) on `machine`: slots as the expert
 * cache sizes them. A budget too small for dense + KV + one token's experts gives the reason.
 */
export function machineMemoryPlan(shape: ModelCostShape, machine: MachineProfile, budgetFraction: number, contextTokens: number): MemoryPlan | { doesNotFit: string } {
  const physicalBytes = machine.memoryGB * GIB;
  try {
    return planMemory({
      plan: shape.loadPlan,
      denseBytes: shape.denseResidentBytes,
      expertBytes: shape.expertBytes * shape.route.moeLayers.length * shape.route.nExperts,
      kvBytesPerToken: shape.kvBytesPerToken,
      contextTokens,
      budgetBytes: Math.floor(physicalBytes * budgetFraction),
      budgetSource: `${budgetFraction} x ${machine.memoryGB} GB`,
      physicalBytes,
    });
  } catch (err) {
    if (err instanceof ConfigError) return { doesNotFit: err.message.replace(/^--memory-budget: /, "") };
    throw err;
  }
}

export interface Throughput {
  /** Demand loading: compute waits for every miss. */
  tokPerSec: number;
  /** Perfect prefetch: reads fully overlap compute. */
  tokPerSecBound: number;
  memMsPerToken: number;
  ssdMsPerToken: number;
}

export function throughput(shape: ModelCostShape, machine: MachineProfile, contextTokens: number, missesPerToken: ArrayLike<number>): Throughput {
  const used = shape.route.moeLayers.length * shape.route.topK;
  const memBytes = shape.denseReadBytesPerToken + (shape.kvBytesPerToken * contextTokens) / 2 + used * shape.expertBytes;
  const memS = memBytes / (machine.memGBps * 1e9);
  let serial = 0;
  let overlapped = 0;
  let ssdTotal = 0;
  for (let i = 0; i < missesPerToken.length; i++) {
    const ssdS = (missesPerToken[i]! * shape.expertBytes) / (machine.ssdGBps * 1e9);
    serial += memS + ssdS;
    overlapped += Math.max(memS, ssdS);
    ssdTotal += ssdS;
  }
  const n = missesPerToken.length;
  return {
    tokPerSec: n ? n / serial : 0,
    tokPerSecBound: n ? n / overlapped : 0,
    memMsPerToken: memS * 1e3,
    ssdMsPerToken: n ? (ssdTotal / n) * 1e3 : 0,
  };
}
