// EngineSession over a native session: prefix reuse against the KV cache, generation as an
// AsyncIterable fed by the native thread's events, cancellation through AbortSignal.
import { EngineError, UsageError } from "../errors.js";
import type { EngineSession, ExpertTelemetry, GenerationStats, SamplingOptions, TokenEvent } from "./types.js";
import type { NativeExpertTotals, NativeGenEvent, NativeSampling, NativeSessionHandle } from "./native_addon.js";

/** Length of the longest common prefix of the cached tokens and the prompt. */
export function commonPrefix(cached: ArrayLike<number>, prompt: readonly number[]): number {
  const n = Math.min(cached.length, prompt.length);
  let i = 0;
  while (i < n && cached[i] === prompt[i]) i++;
  return i;
}

function checkIds(ids: readonly number[], vocab: number, what: string): Int32Array {
  const out = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new UsageError(`${what}: token id ${id} at index ${i} is outside the vocabulary 0..${vocab - 1}`);
    out[i] = id;
  }
  return out;
}

export class NativeEngineSession implements EngineSession {
  private native: NativeSessionHandle | null;
  /** Settles when the native session has finished its current operation. */
  private idle: Promise<void> = Promise.resolve();

  constructor(
    native: NativeSessionHandle,
    private readonly vocabSize: number,
    private readonly defaults: SamplingOptions,
  ) {
    this.native = native;
  }

  private handle(): NativeSessionHandle {
    if (!this.native) throw new EngineError("session disposed");
    return this.native;
  }

  get tokens(): readonly number[] {
    return Array.from(this.handle().tokens());
  }

  /**
   * Runs fn once the previous native operation has finished; the next one waits for fn and, if fn
   * succeeded, for holdUntil() (a generation keeps the session until its native thread ends).
   */
  private exclusive<T>(fn: () => Promise<T>, holdUntil?: () => Promise<void>): Promise<T> {
    const run = this.idle.then(fn);
    this.idle = run.then(
      () => holdUntil?.(),
      () => undefined,
    ).then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async logits(ids: readonly number[]): Promise<Float32Array[]> {
    const input = checkIds(ids, this.vocabSize, "logits");
    if (input.length === 0) throw new UsageError("logits: no token ids given");
    return this.exclusive(async () => {
      const s = this.handle();
      s.truncate(0);
      const flat = await this.wrap(s.prefill(input, "all"));
      const rows: Float32Array[] = [];
      for (let t = 0; t < input.length; t++) rows.push(flat!.subarray(t * this.vocabSize, (t + 1) * this.vocabSize));
      return rows;
    });
  }

  /** Full prefill from position 0 that also returns the experts each MoE layer chose per token. */
  async prefillRoutes(ids: readonly number[]): Promise<{ logits: Float32Array[]; routes: Int32Array[] }> {
    const input = checkIds(ids, this.vocabSize, "prefill");
    if (input.length === 0) throw new UsageError("prefill: no token ids given");
    return this.exclusive(async () => {
      const s = this.handle();
      s.truncate(0);
      const flat = await this.wrap(s.prefill(input, "all", true));
      const logits: Float32Array[] = [];
      for (let t = 0; t < input.length; t++) logits.push(flat!.subarray(t * this.vocabSize, (t + 1) * this.vocabSize));
      return { logits, routes: s.routes() };
    });
  }

  private async wrap<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      throw new EngineError((err as Error).message, { cause: err });
    }
  }

  generate(prompt: readonly number[], sampling: SamplingOptions, signal?: AbortSignal): AsyncIterable<TokenEvent> {
    const input = checkIds(prompt, this.vocabSize, "generate");
    if (input.length === 0) throw new UsageError("generate: the prompt has no tokens");
    const opts = { ...this.defaults, ...stripUndefined(sampling) };
    if (opts.maxTokens !== undefined && (!Number.isInteger(opts.maxTokens) || opts.maxTokens < 0)) {
      throw new UsageError(`generate: maxTokens must be a whole number >= 0 (got ${opts.maxTokens})`);
    }
    const self = this;
    return {
      [Symbol.asyncIterator]: () => self.stream(input, opts, signal),
    };
  }

  private async *stream(input: Int32Array, opts: SamplingOptions, signal?: AbortSignal): AsyncGenerator<TokenEvent> {
    const queue: NativeGenEvent[] = [];
    let wake: (() => void) | null = null;
    let finished!: () => void;
    const done = new Promise<void>((r) => (finished = r));
    const state = { started: false };
    const ctl: { cancel: (() => void) | null } = { cancel: null };
    let reused = 0;
    const onAbort = () => ctl.cancel?.();

    // Waits for earlier operations, then starts the native generation.
    await this.exclusive(async () => {
      const s = this.handle();
      // Reuse the longest cached prefix; at least one token must be prefilled to get logits.
      reused = Math.min(commonPrefix(s.tokens(), Array.from(input)), input.length - 1);
      s.truncate(reused);
      const native: NativeSampling = { ...opts, stopIds: opts.stopIds ?? [] };
      if (opts.seed === undefined) delete native.seed;
      if (signal?.aborted) native.cancelled = true;
      const h = s.generate(input.subarray(reused), native, (ev) => {
        queue.push(ev);
        if (ev.type !== "token") finished();
        wake?.();
      });
      state.started = true;
      ctl.cancel = () => h.cancel();
      if (signal?.aborted) h.cancel();
      signal?.addEventListener("abort", onAbort, { once: true });
    }, () => done);
    if (!state.started) return;
    try {
      for (;;) {
        while (queue.length === 0) await new Promise<void>((r) => (wake = r));
        wake = null;
        const ev = queue.shift()!;
        if (ev.type === "token") {
          yield { type: "token", id: ev.id, index: ev.index, elapsedMs: ev.elapsedMs };
          continue;
        }
        if (ev.type === "error") throw new EngineError(ev.message);
        const stats: GenerationStats = {
          promptTokens: input.length,
          reusedTokens: reused,
          prefilledTokens: ev.prefilledTokens,
          generatedTokens: ev.generatedTokens,
          prefillMs: ev.prefillMs,
          decodeMs: ev.decodeMs,
          timeToFirstTokenMs: ev.timeToFirstTokenMs,
          prefillTokPerS: ev.prefillMs > 0 ? (ev.prefilledTokens * 1000) / ev.prefillMs : 0,
          // decodeMs spans first to last token: generatedTokens - 1 decode steps
          decodeTokPerS: ev.generatedTokens > 1 && ev.decodeMs > 0 ? ((ev.generatedTokens - 1) * 1000) / ev.decodeMs : 0,
          finishReason: ev.finishReason,
        };
        if (ev.experts !== undefined) stats.experts = expertTelemetry(ev.experts);
        yield { type: "done", stats };
        return;
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      // A consumer that stops early cancels the native loop; the session stays busy until it ends.
      ctl.cancel?.();
    }
  }

  truncate(length: number): void {
    if (!Number.isInteger(length) || length < 0) throw new UsageError(`truncate: length must be a whole number >= 0 (got ${length})`);
    try {
      this.handle().truncate(length);
    } catch (err) {
      throw new EngineError((err as Error).message, { cause: err });
    }
  }

  kvBytes(): number {
    return this.handle().kvBytes().usedBytes;
  }

  /** Bytes reserved for the cache at full capacity, and that capacity in tokens. */
  kvCapacity(): { bytes: number; tokens: number } {
    const k = this.handle().kvBytes();
    return { bytes: k.capacityBytes, tokens: k.capacityTokens };
  }

  dispose(): void {
    this.native?.dispose();
    this.native = null;
  }
}

function stripUndefined(o: SamplingOptions): SamplingOptions {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as SamplingOptions;
}

/** One generation's expert-cache counters as the rates the UI and JSON stats show. */
export function expertTelemetry(x: NativeExpertTotals): ExpertTelemetry {
  const asked = x.hits + x.misses;
  return {
    hits: x.hits,
    misses: x.misses,
    hitRate: asked > 0 ? x.hits / asked : 1,
    bytesRead: x.bytesRead,
    readGBps: x.readSeconds > 0 ? x.bytesRead / x.readSeconds / 1e9 : 0,
    stallMs: x.stallMs,
    prefetchPrecision: x.prefetchIssued > 0 ? x.prefetchUsed / x.prefetchIssued : 0,
    residentBytes: x.residentBytes,
  };
}
