// Resolves the engine's run settings: explicit options (CLI flags) first, then the K2_CPU_MODE /
// K2_BACKEND environment variables, then defaults (all cores, metal on Apple Silicon and cpu
// elsewhere; exact CPU mode unless the caller prefers fast: the app and the server do, since fast
// mode's 16-bit activations stay within 3e-4 of the golden logits at ~1.6x the INT4 speed).
import { availableParallelism } from "node:os";
import { ConfigError } from "../../errors.js";
import type { NativeLoadPlan } from "../native_api.js";

export interface PlanOptions {
  threads?: number;
  backend?: NativeLoadPlan["backend"];
  cpuMode?: NativeLoadPlan["cpuMode"];
  memoryBudget?: number;
  /** CPU mode when neither an option nor K2_CPU_MODE chooses one (default exact). */
  defaultCpuMode?: NativeLoadPlan["cpuMode"];
}

export type ResolvedPlanOptions = Required<Omit<PlanOptions, "defaultCpuMode">>;

export const BACKENDS: readonly NativeLoadPlan["backend"][] = ["cpu", "metal", "metal-emu"];
export const CPU_MODES: readonly NativeLoadPlan["cpuMode"][] = ["exact", "fast"];
/** K2_CPU_ISA caps the CPU kernel tier (read by the addon itself; checked here so a typo is a usage error). */
export const CPU_ISAS = ["scalar", "avx2", "avx512", "neon"] as const;

function fromEnv<T extends string>(name: string, allowed: readonly T[], env: NodeJS.ProcessEnv): T | undefined {
  const v = env[name];
  if (v === undefined || v === "") return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new ConfigError(`environment variable ${name}="${v}" must be one of: ${allowed.join(", ")}`);
  return v as T;
}

/** Metal on Apple Silicon (the GPU shares the weights' memory), the CPU backend elsewhere. */
export function defaultBackend(platform: string = process.platform, arch: string = process.arch): NativeLoadPlan["backend"] {
  return platform === "darwin" && arch === "arm64" ? "metal" : "cpu";
}

export function resolvePlanOptions(opts: PlanOptions, env: NodeJS.ProcessEnv = process.env): ResolvedPlanOptions {
  const threads = opts.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1 || threads > 1024) throw new ConfigError(`threads must be an integer in 1..1024 (got ${threads})`);
  const memoryBudget = opts.memoryBudget ?? 0;
  if (!Number.isSafeInteger(memoryBudget) || memoryBudget < 0) throw new ConfigError(`memory budget must be a whole number of bytes >= 0 (got ${memoryBudget})`);
  const backend = opts.backend ?? fromEnv("K2_BACKEND", BACKENDS, env) ?? defaultBackend();
  if (!BACKENDS.includes(backend)) throw new ConfigError(`backend "${backend}" must be one of: ${BACKENDS.join(", ")}`);
  if (backend === "metal" && process.platform !== "darwin") {
    throw new ConfigError(`backend "metal" needs macOS with Apple Silicon; use "cpu" (or "metal-emu" to emulate the Metal kernels)`);
  }
  fromEnv("K2_CPU_ISA", CPU_ISAS, env);
  const cpuMode = opts.cpuMode ?? fromEnv("K2_CPU_MODE", CPU_MODES, env) ?? opts.defaultCpuMode ?? "exact";
  if (!CPU_MODES.includes(cpuMode)) throw new ConfigError(`cpu mode "${cpuMode}" must be one of: ${CPU_MODES.join(", ")}`);
  return { threads, backend, cpuMode, memoryBudget };
}
