// openEngine(dir, opts): checkpoint directory -> a running Engine. The checkpoint loader validates
// everything it can in TypeScript (clear errors naming files and fields); the addon maps the
// shards and builds the model; sessions own KV caches.
import { EngineError } from "../errors.js";
import { loadCheckpointPlan } from "./checkpoint/load_checkpoint_plan.js";
import { loadAddon, type NativeEngineDetails, type NativeEngineHandle } from "./native_addon.js";
import { NativeEngineSession } from "./engine_session.js";
import { planMemory, type MemoryPlan } from "./memory_plan.js";
import type { Engine, EngineSession, LoadOptions, ModelInfo, SamplingOptions } from "./types.js";

/** KV-cache capacity when LoadOptions.contextSize is unset (CPU memory is committed lazily). */
export const DEFAULT_CONTEXT_TOKENS = 32768;

export class NativeEngine implements Engine {
  private native: NativeEngineHandle | null;
  readonly details: NativeEngineDetails;

  constructor(
    native: NativeEngineHandle,
    readonly info: ModelInfo,
    readonly sampling: SamplingOptions,
    readonly contextSize: number,
    readonly memoryPlan: MemoryPlan,
  ) {
    this.native = native;
    this.details = native.info();
  }

  createSession(): EngineSession & NativeEngineSession {
    if (!this.native) throw new EngineError("engine disposed");
    let s;
    try {
      s = this.native.createSession(this.contextSize);
    } catch (err) {
      throw new EngineError((err as Error).message, { cause: err });
    }
    return new NativeEngineSession(s, this.info.vocabSize, this.sampling);
  }

  /** Expert counters since load: cumulative hits, reads, stalls (see NativeExpertTotals). */
  expertStats() {
    if (!this.native) throw new EngineError("engine disposed");
    return this.native.expertStats();
  }

  dispose(): void {
    this.native?.dispose();
    this.native = null;
  }
}

export async function openEngine(dir: string, opts: LoadOptions = {}): Promise<NativeEngine> {
  opts.onProgress?.({ phase: "headers", done: 0, total: 1 });
  const { plan, info, generation } = await loadCheckpointPlan(
    dir,
    {
      threads: opts.threads,
      backend: opts.backend,
      cpuMode: opts.cpuMode,
      defaultCpuMode: opts.defaultCpuMode,
      memoryBudget: opts.memoryBudget,
    },
    opts.onProgress,
  );
  const contextSize = Math.min(opts.contextSize ?? DEFAULT_CONTEXT_TOKENS, info.maxPositionEmbeddings);
  if (!Number.isInteger(contextSize) || contextSize < 1) throw new EngineError(`context size must be a positive whole number of tokens (got ${opts.contextSize})`);
  // Budget accounting happens before anything is mapped, so a budget that cannot work fails fast.
  const memoryPlan = planMemory({
    plan,
    denseBytes: info.bytes.dense,
    expertBytes: info.bytes.experts,
    kvBytesPerToken: info.kvBytesPerToken,
    contextTokens: contextSize,
    budgetBytes: opts.memoryBudget,
    budgetSource: opts.memoryBudget !== undefined ? "--memory-budget" : undefined,
  });
  plan.expertCacheBytes = memoryPlan.expertCacheBytes;
  if (opts.expertIo !== undefined) plan.expertIo = opts.expertIo;
  if (opts.recordRoutes !== undefined) plan.recordRoutes = opts.recordRoutes;
  const addon = loadAddon();
  if (opts.onProgress !== undefined) {
    opts.onProgress({ phase: "mapping", done: 0, total: plan.files.length, bytesDone: 0, bytesTotal: info.bytes.total });
    // The native constructor blocks this thread: let the display show the phase first.
    await new Promise((r) => setTimeout(r, 50));
  }
  let native: NativeEngineHandle;
  try {
    native = new addon.NativeEngine(plan);
  } catch (err) {
    throw new EngineError(`${dir}: ${(err as Error).message}`, { cause: err });
  }
  opts.onProgress?.({ phase: "ready", done: plan.files.length, total: plan.files.length, bytesDone: info.bytes.total, bytesTotal: info.bytes.total });
  return new NativeEngine(native, info, generation, contextSize, memoryPlan);
}
