// From a machine and a simulated cache to expected decode speed. The model, stated in
// docs/experts.md:
//  - memory plan: budget = memory x budgetFraction; dense weights and the KV cache for the
//    reserved context stay resident; the rest holds whole experts (capacity in slots);
//  - per token, memory time = (dense bytes read + KV bytes read + every used expert's bytes) /
//    memory bandwidth (decode is memory-bound; a missed expert is computed from memory once it
//    has landed); SSD time = missed experts' bytes / SSD bandwidth;
//  - demand loading waits for each miss: token time = memory time + SSD time ("tok/s");
//    perfect prefetch hides reads behind compute: token time = max of the two ("tok/s bound").
// KV bytes read per token are charged at half the reserved context (the mean position of a
// conversation that fills it).
import type { ModelCostShape } from "./model_cost_shape.js";
import type { MachineProfile } from "./mac_profiles.js";

export interface MemoryPlan {
  budgetBytes: number;
  denseBytes: number;
  kvBytes: number;
  cacheBytes: number;
  /** Expert slots; 0 when the budget does not even cover dense + KV. */
  capacity: number;
  totalExperts: number;
}

export function memoryPlan(shape: ModelCostShape, machine: MachineProfile, budgetFraction: number, contextTokens: number): MemoryPlan {
  const budgetBytes = machine.memoryGB * 1e9 * budgetFraction;
  const kvBytes = shape.kvBytesPerToken * contextTokens;
  const cacheBytes = Math.max(0, budgetBytes - shape.denseResidentBytes - kvBytes);
  return {
    budgetBytes,
    denseBytes: shape.denseResidentBytes,
    kvBytes,
    cacheBytes,
    capacity: Math.floor(cacheBytes / shape.expertBytes),
    totalExperts: shape.route.moeLayers.length * shape.route.nExperts,
  };
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
