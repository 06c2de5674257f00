// The memory plan: how a budget splits into resident dense weights, the KV cache at the
// configured context (MLA latent) and the expert cache (the rest), in whole expert slots. The
// native expert cache sizes its slots the same way (native-metal/runtime/expert_cache.cpp,
// expert_slot_bytes): each of an expert's six tensors gets a 4 KiB-aligned region with one spare
// page, so a direct read of the tensor's aligned span fits wherever the tensor starts.
import { totalmem } from "node:os";
import { ConfigError } from "../errors.js";
import type { NativeLoadPlan } from "./native_api.js";

/** Share of physical memory the engine takes when no budget is given. */
export const DEFAULT_BUDGET_FRACTION = 0.75;
/** Node, the addon's scratch buffers and thread stacks: kept out of the expert cache. */
export const RUNTIME_RESERVE_BYTES = 256 * 2 ** 20;
const IO_ALIGN = 4096;
const EXPERT_TENSORS = ["gate_proj.weight_packed", "gate_proj.weight_scale", "up_proj.weight_packed", "up_proj.weight_scale", "down_proj.weight_packed", "down_proj.weight_scale"];

export interface MemoryPlan {
  budgetBytes: number;
  /** Where the budget came from ("--memory-budget 40%", "default: 75% of 24.0 GB RAM"). */
  budgetSource: string;
  denseBytes: number;
  kvBytes: number;
  contextTokens: number;
  reserveBytes: number;
  expertBytes: number; // all routed experts
  experts: number; // routed experts over all MoE layers
  perExpertBytes: number;
  slotBytes: number;
  /** Experts the cache holds; equals `experts` when every expert fits (then nothing is copied). */
  cachedExperts: number;
  /** Bytes of expert-cache slots; 0 when every expert fits and the shards stay mapped. */
  expertCacheBytes: number;
  streaming: boolean;
}

export interface MemoryPlanInput {
  plan: NativeLoadPlan;
  denseBytes: number;
  expertBytes: number;
  kvBytesPerToken: number;
  contextTokens: number;
  budgetBytes?: number;
  budgetSource?: string;
  physicalBytes?: number;
}

/** Bytes of one expert-cache slot for this checkpoint (0 if it has no routed experts). */
export function expertSlotBytes(plan: NativeLoadPlan): number {
  const c = plan.config;
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const first = plan.tensors[`model.layers.${l}.mlp.experts.0.gate_proj.weight_packed`];
    if (first === undefined) continue;
    let n = 0;
    for (const t of EXPERT_TENSORS) {
      const e = plan.tensors[`model.layers.${l}.mlp.experts.0.${t}`];
      if (e === undefined) return 0;
      n += Math.ceil(e.nbytes / IO_ALIGN) * IO_ALIGN + IO_ALIGN;
    }
    return n;
  }
  return 0;
}

export function defaultBudget(physicalBytes = totalmem()): number {
  return Math.floor(physicalBytes * DEFAULT_BUDGET_FRACTION);
}

export function planMemory(input: MemoryPlanInput): MemoryPlan {
  const physical = input.physicalBytes ?? totalmem();
  const budgetBytes = input.budgetBytes ?? defaultBudget(physical);
  const budgetSource = input.budgetSource ?? `default: ${Math.round(DEFAULT_BUDGET_FRACTION * 100)}% of ${fmtGiB(physical)} RAM`;
  const c = input.plan.config;
  let moeLayers = 0;
  for (let l = 0; l < c.num_hidden_layers; l++) if (c.n_routed_experts > 0 && l >= c.first_k_dense_replace && l % c.moe_layer_freq === 0) moeLayers++;
  const experts = moeLayers * c.n_routed_experts;
  const perExpertBytes = experts > 0 ? input.expertBytes / experts : 0;
  const kvBytes = input.kvBytesPerToken * input.contextTokens;
  const slotBytes = expertSlotBytes(input.plan);
  const base = {
    budgetBytes,
    budgetSource,
    denseBytes: input.denseBytes,
    kvBytes,
    contextTokens: input.contextTokens,
    reserveBytes: RUNTIME_RESERVE_BYTES,
    expertBytes: input.expertBytes,
    experts,
    perExpertBytes,
    slotBytes,
  };
  const fixed = input.denseBytes + kvBytes + RUNTIME_RESERVE_BYTES;
  // The least budget that runs: fixed plus one token's experts in cache slots (all experts when
  // they cannot be streamed).
  const minSlots = Math.max(1, c.num_experts_per_tok);
  const minimum = fixed + (experts === 0 ? 0 : slotBytes === 0 ? input.expertBytes : Math.min(input.expertBytes, minSlots * slotBytes));
  if (budgetBytes < fixed) {
    throw new ConfigError(
      `--memory-budget: ${fmtGiB(budgetBytes)} (${budgetSource}) is less than the dense weights (${fmtGB(input.denseBytes)}) + KV cache at ${input.contextTokens} tokens (${fmtGB(kvBytes)}) + runtime reserve (${fmtGB(RUNTIME_RESERVE_BYTES)}) = ${fmtGB(fixed)}; raise the budget to at least ${fmtGiB(minimum, true)} or lower --context`,
    );
  }
  const rest = budgetBytes - fixed;
  // Every expert fits as mapped from the shards: no cache, no copies.
  if (experts === 0 || rest >= input.expertBytes) return { ...base, cachedExperts: experts, expertCacheBytes: 0, streaming: false };
  if (slotBytes === 0) {
    // The expert cache's slots hold INT4 experts only; BF16 experts are served from the mapping.
    throw new ConfigError(
      `--memory-budget: ${fmtGiB(budgetBytes)} (${budgetSource}) leaves ${fmtGB(rest)} for routed experts, but this checkpoint's BF16 experts (${fmtGB(input.expertBytes)}) cannot be streamed (the expert cache holds INT4 experts only) and must all stay mapped: raise the budget to at least ${fmtGiB(minimum, true)}`,
    );
  }
  const slots = Math.min(experts, Math.floor(rest / slotBytes));
  if (slots < minSlots) {
    throw new ConfigError(
      `--memory-budget: ${fmtGiB(budgetBytes)} leaves ${fmtGB(rest)} for the expert cache after dense ${fmtGB(input.denseBytes)} + KV ${fmtGB(kvBytes)} + reserve ${fmtGB(RUNTIME_RESERVE_BYTES)}; one token needs ${minSlots} experts of ${fmtGB(slotBytes)} (${fmtGB(minSlots * slotBytes)}): raise the budget to at least ${fmtGiB(minimum, true)}`,
    );
  }
  return { ...base, cachedExperts: slots, expertCacheBytes: slots * slotBytes, streaming: true };
}

function fmtGB(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  return `${(n / 1e6).toFixed(1)} MB`;
}

// Budgets and RAM in the binary units --memory-budget takes ("64G" is 64 GiB, as a "64 GB" Mac
// has 64 GiB), so a printed budget can be typed back; weight sizes stay decimal, as published.
// up: rounded up, for "raise the budget to at least …".
function fmtGiB(n: number, up = false): string {
  const round = (v: number) => (up ? Math.ceil(v * 10) / 10 : v);
  if (n >= 2 ** 30) return `${round(n / 2 ** 30).toFixed(1)} GiB`;
  return `${round(n / 2 ** 20).toFixed(1)} MiB`;
}

function fmtTokens(n: number): string {
  return n >= 1024 && n % 1024 === 0 ? `${n / 1024}K` : String(n);
}

/** "dense 23.4 GB resident · KV 17.6 GB at 256K · expert cache 410 GB = 16,500 of 23,040 experts (72%)" */
export function formatMemoryPlan(p: MemoryPlan): string {
  const head = `dense ${fmtGB(p.denseBytes)} resident · KV ${fmtGB(p.kvBytes)} at ${fmtTokens(p.contextTokens)}`;
  const pct = p.experts > 0 ? Math.round((100 * p.cachedExperts) / p.experts) : 100;
  const experts = p.streaming
    ? `expert cache ${fmtGB(p.expertCacheBytes)} = ${p.cachedExperts.toLocaleString("en-US")} of ${p.experts.toLocaleString("en-US")} experts (${pct}%)`
    : `experts ${fmtGB(p.expertBytes)} = all ${p.experts.toLocaleString("en-US")} resident (mapped)`;
  return `${head} · ${experts} · budget ${fmtGiB(p.budgetBytes)} (${p.budgetSource})`;
}
