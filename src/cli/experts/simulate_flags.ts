// k2 simulate's flags, parsed into SimulateOptions; every bad value is a UsageError naming the flag.
import { UsageError } from "../../errors.js";
import { parseChoiceFlag, parseIntFlag, parseNumberFlag } from "../engine/engine_flags.js";
import { findProfile, MAC_PROFILES, type MachineProfile } from "./mac_profiles.js";
import { POLICY_NAMES, type PolicyName, type PolicyParams, type RouteSource } from "./sim_addon.js";
import type { ModelCostShape } from "./model_cost_shape.js";

export interface SimulateFlags {
  trace?: string;
  model?: string;
  tokens: string;
  zipf: string;
  reuse: string;
  seed: string;
  saveTrace?: string;
  warmup?: string;
  policy: string;
  halfLife?: string;
  window?: string;
  windowShare?: string;
  pinFraction: string;
  repinTokens: string;
  profile?: string;
  memory?: string;
  memGbps?: string;
  ssdGbps?: string;
  budgetFraction: string;
  context: string;
  json?: boolean;
  plot?: string;
}

export interface ParsedSimulateFlags {
  policies: PolicyName[];
  params: PolicyParams;
  pinning: { pinFraction: number; repinTokens: number };
  machines: MachineProfile[];
  /** Bandwidths for machines given by memory size only (--memory, --plot). */
  memGBps: number;
  ssdGBps: number;
  budgetFraction: number;
  contextTokens: number;
  warmup?: number;
  synthetic: { tokens: number; zipf: number; reuse: number; seed: number };
}

/** Bandwidths of a machine given by size only: the largest profile's, unless overridden. */
const DEFAULT_BANDWIDTHS = MAC_PROFILES[MAC_PROFILES.length - 1]!;

const positive = (n: number) => n > 0;

export function customMachine(memoryGB: number, memGBps: number, ssdGBps: number): MachineProfile {
  return { name: `${memoryGB}GB`, description: `${memoryGB} GB`, memoryGB, memGBps, ssdGBps };
}

export function parseSimulateFlags(f: SimulateFlags): ParsedSimulateFlags {
  const policy = parseChoiceFlag("--policy", f.policy, [...POLICY_NAMES, "all"] as const)!;
  const params: PolicyParams = {};
  const halfLife = parseNumberFlag("--half-life", f.halfLife, positive, "a number of tokens > 0");
  if (halfLife !== undefined) params.halfLife = halfLife;
  const window = parseIntFlag("--window", f.window, 0, 2 ** 32 - 1);
  if (window !== undefined) params.window = window;
  const windowShare = parseNumberFlag("--window-share", f.windowShare, (n) => n >= 0 && n <= 1, "in [0, 1]");
  if (windowShare !== undefined) params.windowShare = windowShare;
  const memOverride = parseNumberFlag("--mem-gbps", f.memGbps, positive, "a bandwidth in GB/s > 0");
  const ssdOverride = parseNumberFlag("--ssd-gbps", f.ssdGbps, positive, "a bandwidth in GB/s > 0");
  const memGBps = memOverride ?? DEFAULT_BANDWIDTHS.memGBps;
  const ssdGBps = ssdOverride ?? DEFAULT_BANDWIDTHS.ssdGBps;
  if (f.memory !== undefined && f.profile !== undefined) throw new UsageError("--memory and --profile cannot be used together");
  let machines: MachineProfile[];
  if (f.memory !== undefined) {
    machines = f.memory.split(",").map((part) => customMachine(parseNumberFlag("--memory", part.trim().replace(/\s*g(i?b)?$/i, ""), positive, "memory sizes in GB > 0, comma-separated")!, memGBps, ssdGBps));
  } else {
    const names = f.profile === undefined || f.profile === "all" ? MAC_PROFILES.map((p) => p.name) : f.profile.split(",");
    machines = names.map((n) => {
      const p = findProfile(n.trim());
      if (!p) throw new UsageError(`--profile: "${n}" is not one of ${MAC_PROFILES.map((q) => q.name).join(", ")}, all`);
      return { ...p, memGBps: memOverride ?? p.memGBps, ssdGBps: ssdOverride ?? p.ssdGBps };
    });
  }
  const tokens = parseIntFlag("--tokens", f.tokens, 1, 10_000_000)!;
  const warmup = parseIntFlag("--warmup", f.warmup, 0);
  return {
    policies: policy === "all" ? [...POLICY_NAMES] : [policy],
    params,
    pinning: {
      pinFraction: parseNumberFlag("--pin-fraction", f.pinFraction, (n) => n >= 0 && n <= 1, "in [0, 1]")!,
      repinTokens: parseIntFlag("--repin-tokens", f.repinTokens, 1, 2 ** 32 - 1)!,
    },
    machines,
    memGBps,
    ssdGBps,
    budgetFraction: parseNumberFlag("--budget-fraction", f.budgetFraction, (n) => n > 0 && n <= 1, "in (0, 1]")!,
    contextTokens: parseIntFlag("--context", f.context, 1, 1 << 30)!,
    ...(warmup !== undefined ? { warmup } : {}),
    synthetic: {
      tokens,
      zipf: parseNumberFlag("--zipf", f.zipf, (n) => n >= 0 && n <= 10, "in [0, 10]")!,
      reuse: parseNumberFlag("--reuse", f.reuse, (n) => n >= 0 && n <= 1, "in [0, 1]")!,
      seed: parseIntFlag("--seed", f.seed, 0)!,
    },
  };
}

export function routeSource(f: SimulateFlags, p: ParsedSimulateFlags, shape: ModelCostShape): RouteSource {
  if (f.trace !== undefined) {
    if (f.saveTrace !== undefined) throw new UsageError("--save-trace writes a synthetic trace; it cannot be combined with --trace");
    return { trace: f.trace };
  }
  return { shape: shape.route, synthetic: p.synthetic };
}
