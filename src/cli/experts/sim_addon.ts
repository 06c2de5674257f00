// Typed view of the addon's expert-cache exports (native-metal/binding/expert_cache_sim_binding.cpp),
// kept apart from the engine's addon typing so the simulator can grow without touching it.
import { loadAddon } from "../../engine/native_addon.js";
import type { RouteShape } from "./model_cost_shape.js";

export type PolicyName = "lru" | "lfu" | "mix";
export const POLICY_NAMES: readonly PolicyName[] = ["lru", "lfu", "mix"];

export interface PolicyParams {
  /** lfu and mix: tokens after which an access counts half. */
  halfLife?: number;
  /** mix: tokens during which a used expert is protected... */
  window?: number;
  /** mix: ...up to this share of the resident experts. */
  windowShare?: number;
}

export interface SyntheticRouting {
  tokens: number;
  /** Popularity skew: expert of rank r is drawn with probability proportional to r^-zipf. */
  zipf: number;
  /** Probability that a slot repeats one of the previous token's experts at that layer. */
  reuse: number;
  seed: number;
}

export type RouteSource = { trace: string } | { shape: RouteShape; synthetic: SyntheticRouting };

export interface SimRun extends PolicyParams {
  policy: PolicyName;
  capacity: number;
  /** Tokens counted apart before the steady state; default: a quarter of the trace. */
  warmup?: number;
  /** Share of the slots pinned to the most requested experts, re-chosen every repinTokens (engine's rule). */
  pinFraction?: number;
  repinTokens?: number;
}

export interface SimRunResult {
  policy: PolicyName;
  /** After clamping to the number of experts. */
  capacity: number;
  warmup: number;
  warmupHits: number;
  warmupMisses: number;
  hits: number;
  misses: number;
  /** Tokens after the warm-up. */
  missesPerToken: Uint32Array;
  seconds: number;
}

export interface ExpertSimAddon {
  /** Drives one policy step by step; returns, per "victim" op, the chosen key or null. */
  runEvictionPolicy(policy: string, nKeys: number, ops: string[], params?: PolicyParams): (number | null)[];
  simulateExpertCache(source: RouteSource, runs: SimRun[]): { shape: RouteShape; tokens: number; runs: SimRunResult[] };
  /** Returns the number of token records written. */
  writeRouteTrace(path: string, source: RouteSource): number;
  readRouteTrace(path: string): { shape: RouteShape; tokens: number; ids: Uint16Array };
}

export function expertSimAddon(): ExpertSimAddon {
  return loadAddon() as unknown as ExpertSimAddon;
}
