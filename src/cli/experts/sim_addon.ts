// Typed view of the addon's expert-cache exports (native-metal/binding/expert_cache_sim_binding.cpp),
// kept apart from the engine's addon typing so the simulator can grow without touching it.
import { loadAddon } from "../../engine/native_addon.js";

export type PolicyName = "lru" | "lfu" | "mix";
export const POLICY_NAMES: readonly PolicyName[] = ["lru", "lfu", "mix"];

export interface PolicyParams {
  /** lfu and mix: tokens after which an access counts half. */
  halfLife?: number;
  /** mix: tokens during which a used expert is protected. */
  window?: number;
}

export interface ExpertSimAddon {
  /** Drives one policy step by step; returns, per "victim" op, the chosen key or null. */
  runEvictionPolicy(policy: string, nKeys: number, ops: string[], params?: PolicyParams): (number | null)[];
}

export function expertSimAddon(): ExpertSimAddon {
  return loadAddon() as unknown as ExpertSimAddon;
}
