// Loads the k2_engine addon (native-metal/binding/) once and types what it exports. Only the
// engine facade and tests import this; `k2 --help` never loads native code.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { EngineError } from "../errors.js";
import type { NativeLoadPlan } from "./native_api.js";

export interface NativeSampling {
  temperature?: number;
  topP?: number;
  topK?: number;
  minP?: number;
  repetitionPenalty?: number;
  presencePenalty?: number;
  seed?: number;
  maxTokens?: number;
  stopIds?: Int32Array | number[];
  /** Start cancelled: nothing is prefilled and the job finishes "cancelled" (an already-aborted request). */
  cancelled?: boolean;
}

export type NativeGenEvent =
  | { type: "token"; id: number; index: number; elapsedMs: number }
  | {
      type: "done";
      finishReason: "stop" | "length" | "cancelled";
      prefilledTokens: number;
      generatedTokens: number;
      prefillMs: number;
      decodeMs: number;
      timeToFirstTokenMs: number;
      /** What this generation cost the expert cache (only when experts stream from disk). */
      experts?: NativeExpertTotals;
    }
  | { type: "error"; message: string };

/** Expert-cache counters summed over layers (native-metal/runtime/expert_telemetry.h). */
export interface NativeExpertTotals {
  hits: number;
  misses: number;
  bytesRead: number;
  readSeconds: number;
  stallMs: number;
  prefetchIssued: number;
  prefetchUsed: number;
  residentBytes: number;
  capacityBytes: number;
}

export interface NativeKvBytes {
  capacityBytes: number;
  usedBytes: number;
  capacityTokens: number;
}

export interface NativeSessionHandle {
  /** Tokens whose K/V the cache holds. */
  tokens(): Int32Array;
  /** Keeps the first `length` cached tokens; returns the new length. */
  truncate(length: number): number;
  kvBytes(): NativeKvBytes;
  /** Runs ids after the cached tokens. Resolves with logits ([n, vocab] for "all", [vocab] for "last") or null. */
  prefill(ids: Int32Array, logits: "all" | "last" | "none", recordRoutes?: boolean): Promise<Float32Array | null>;
  /** Per layer (index = layer; empty for dense layers) the top_k experts each token of the last recorded prefill chose. */
  routes(): Int32Array[];
  /** Prefills ids (at least one) then samples on a native thread; events arrive on the JS thread. */
  generate(ids: Int32Array, sampling: NativeSampling, onEvent: (ev: NativeGenEvent) => void): { cancel(): void };
  dispose(): void;
}

export interface NativeEngineDetails {
  backend: string;
  cpuMode: string;
  mappedBytes: number;
  /** Syncs that waited for issued GPU work since the engine opened (0 on the CPU backend). */
  deviceWaits: number;
  expertCache?: { slots: number; slotBytes: number; directIo: boolean };
}

export interface NativeEngineHandle {
  info(): NativeEngineDetails;
  createSession(capacityTokens: number): NativeSessionHandle;
  /** Expert counters since load (hits count every expert served when all experts are mapped). */
  expertStats(): NativeExpertTotals;
  dispose(): void;
}

export interface BackendOpOptions {
  threads?: number;
  cpuMode?: "exact" | "fast";
  /** cpu only: run with this kernel tier (one of cpuIsas) instead of the default. */
  isa?: string;
}

export interface K2EngineAddon {
  NativeEngine: new (plan: NativeLoadPlan) => NativeEngineHandle;
  /** Runs one backend op (test entry point): see native-metal/binding/backend_ops_binding.cpp for ops and args. */
  runBackendOp(backend: string, op: string, args: Record<string, unknown>, options?: BackendOpOptions): any;
  /** GB/s of a multithreaded streaming read of `bytes` (best of several passes). */
  measureMemoryBandwidth(bytes: number, threads: number): number;
  /** Metal CPU harness (test entry): runs one kernel of shaders/ on typed arrays (buffer(i) = buffers[i], updated in place). */
  runMetalEmuKernel(name: string, buffers: ArrayBufferView[], options: { grid: number[]; threads: number; schedule?: "forward" | "reverse" }): void;
  /** Thread order of later metal-emu dispatches; kernels must not depend on it. */
  setMetalEmuSchedule(schedule: "forward" | "reverse"): void;
  /** Single-thread rates of the CPU matmul kernels, in thread CPU time (native-metal/backend/cpu/kernel_bench.h). */
  benchCpuKernels(reps: number, isa?: string): { name: string; bytes: number; macs: number; seconds: number; cold: boolean }[];
  /** The kernel tier the engine uses (the best this CPU runs, capped by K2_CPU_ISA). */
  cpuIsa: string;
  /** Every kernel tier this CPU runs, best last (e.g. ["scalar", "avx2", "avx512"]). */
  cpuIsas: string[];
  defaultThreads: number;
  /** Test/bench entry: an expert cache over a plan's shards without a model (binding/expert_cache_binding.cpp). */
  ExpertCacheProbe: new (plan: NativeLoadPlan, opts: ExpertCacheProbeOptions) => ExpertCacheProbeHandle;
  /** posix_fadvise(DONTNEED) over a whole file: the next reads come from disk. */
  dropFileCache(path: string): void;
  /** GB/s of 8 MiB direct sequential reads of up to maxBytes of path by `threads` threads (cold). */
  measureSequentialRead(path: string, maxBytes: number, threads: number): number;
}

export interface ExpertCacheProbeOptions {
  capacityBytes: number;
  io?: "pread" | "mmap";
  policy?: "lru" | "lfu" | "mix";
  ioDelayMs?: number;
  pinFraction?: number;
  repinTokens?: number;
}

export interface ExpertCacheProbeHandle {
  /** Per expert its six tensors' bytes (gate packed/scales, up, down), copied out of the slots. */
  acquire(layer: number, ids: number[]): Buffer[][];
  release(layer: number): void;
  prefetch(layer: number, ids: number[]): void;
  stats(): NativeExpertTotals;
  pin(layer: number, expert: number): boolean;
  isResident(layer: number, expert: number): boolean;
  isPinned(layer: number, expert: number): boolean;
  info(): { slots: number; slotBytes: number; maxAcquire: number; directIo: boolean; expertBytes: number };
}

const ADDON_PATH = join("build", "Release", "k2_engine.node");
let cached: K2EngineAddon | undefined;

/** Finds the package root (where build/ lives) above this file, from src/ or dist/src/. */
function addonCandidates(): string[] {
  const out: string[] = [];
  if (process.env.K2_ENGINE_ADDON) out.push(resolve(process.env.K2_ENGINE_ADDON));
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    out.push(join(dir, ADDON_PATH));
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return out;
}

export function loadAddon(): K2EngineAddon {
  if (cached) return cached;
  const candidates = addonCandidates();
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    throw new EngineError(`native engine not built: no ${ADDON_PATH} found (looked in ${candidates.join(", ")}); run \`npm ci\` or \`npx node-gyp rebuild\``);
  }
  try {
    cached = createRequire(import.meta.url)(path) as K2EngineAddon;
  } catch (err) {
    throw new EngineError(`cannot load the native engine ${path}: ${(err as Error).message}`, { cause: err });
  }
  return cached;
}
