// Parses the engine commands' flag strings into typed values; every bad value is a UsageError
// naming the flag (exit 2).
import { resolve } from "node:path";
import { UsageError } from "../../errors.js";
import type { LoadOptions } from "../../engine/types.js";
import { parseMemoryBudget } from "./memory_budget_flag.js";

export interface CommonEngineFlags {
  model: string;
  threads?: string;
  cpuMode?: string;
  backend?: string;
  memoryBudget?: string;
  expertIo?: string;
  recordRoutes?: string;
}

export function parseIntFlag(flag: string, value: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (!/^[+]?\d+$/.test(v)) throw new UsageError(`${flag}: expected a whole number, got "${value}"`);
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${flag}: ${n} is out of range (${min}..${max})`);
  return n;
}

export function parseNumberFlag(flag: string, value: string | undefined, ok: (n: number) => boolean, rule: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.trim());
  if (value.trim() === "" || !Number.isFinite(n) || !ok(n)) throw new UsageError(`${flag}: must be ${rule}, got "${value}"`);
  return n;
}

export function parseChoiceFlag<T extends string>(flag: string, value: string | undefined, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(`${flag}: must be one of ${choices.join(", ")}, got "${value}"`);
  return value as T;
}

/** A file the run will create: resolved against the working directory now. */
export function parseOutputPath(flag: string, value: string): string {
  if (value.trim() === "") throw new UsageError(`${flag}: expected a file path`);
  return resolve(value);
}

/** Comma- or space-separated token ids. */
export function parseIds(flag: string, value: string | undefined): number[] {
  if (value === undefined || value.trim() === "") throw new UsageError(`${flag}: expected a comma-separated list of token ids`);
  const ids: number[] = [];
  for (const part of value.split(/[\s,]+/).filter((p) => p !== "")) {
    if (!/^\d+$/.test(part) || !Number.isSafeInteger(Number(part))) throw new UsageError(`${flag}: "${part}" is not a token id (a whole number >= 0)`);
    ids.push(Number(part));
  }
  if (ids.length === 0) throw new UsageError(`${flag}: expected at least one token id`);
  return ids;
}

/** Token ids must index the model's embedding table. */
export function checkIdsInVocab(flag: string, ids: readonly number[], vocabSize: number): void {
  const i = ids.findIndex((id) => id >= vocabSize);
  if (i >= 0) throw new UsageError(`${flag}: id ${ids[i]} (position ${i}) is outside the model's vocabulary (vocab_size ${vocabSize}, ids 0..${vocabSize - 1})`);
}

export function loadOptionsFromFlags(f: CommonEngineFlags, contextSize?: number, env: NodeJS.ProcessEnv = process.env): LoadOptions {
  const opts: LoadOptions = {};
  const threads = parseIntFlag("--threads", f.threads, 1, 1024);
  if (threads !== undefined) opts.threads = threads;
  const cpuMode = parseChoiceFlag("--cpu-mode", f.cpuMode, ["exact", "fast"] as const);
  if (cpuMode !== undefined) opts.cpuMode = cpuMode;
  const backend = parseChoiceFlag("--backend", f.backend, ["cpu", "metal", "metal-emu"] as const);
  if (backend !== undefined) opts.backend = backend;
  // Flags first, then the environment names the app's settings use (K2_MEMORY_BUDGET_GB is in GB).
  const envBudget = env.K2_MEMORY_BUDGET_GB ? `${env.K2_MEMORY_BUDGET_GB}G` : undefined;
  const memoryBudget = parseMemoryBudget(f.memoryBudget !== undefined ? "--memory-budget" : "K2_MEMORY_BUDGET_GB", f.memoryBudget ?? envBudget);
  if (memoryBudget !== undefined) opts.memoryBudget = memoryBudget;
  const expertIo = parseChoiceFlag(f.expertIo !== undefined ? "--expert-io" : "K2_EXPERT_IO", f.expertIo ?? (env.K2_EXPERT_IO || undefined), ["pread", "mmap"] as const);
  if (expertIo !== undefined) opts.expertIo = expertIo;
  if (f.recordRoutes !== undefined) opts.recordRoutes = parseOutputPath("--record-routes", f.recordRoutes);
  if (contextSize !== undefined) opts.contextSize = contextSize;
  return opts;
}
