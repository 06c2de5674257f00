// An EngineSession that replays scripted token ids instead of running a model, for tests of
// everything above the engine (LocalChatModel, the agent loop, the server). Each generate() call
// consumes the next script, records the prompt it was given, honours maxTokens, stopIds and the
// AbortSignal like the real session, and keeps `tokens` as the cache would (prompt + generated).
import type { EngineSession, GenerationStats, SamplingOptions, TokenEvent } from "../../src/engine/types.js";

export interface GenerateCall {
  prompt: number[];
  sampling: SamplingOptions;
}

export interface ScriptedEngineSessionOptions {
  /** Called before each token is emitted (e.g. to abort mid-stream in a test). */
  onToken?: (index: number, id: number) => void;
}

export class ScriptedEngineSession implements EngineSession {
  /** Every generate() call, in order. */
  readonly calls: GenerateCall[] = [];
  private cache: number[] = [];
  private readonly scripts: number[][];
  disposed = false;

  /** @param scripts one token-id sequence per generate() call, replayed in order. */
  constructor(
    scripts: number[][],
    private readonly options: ScriptedEngineSessionOptions = {},
  ) {
    this.scripts = scripts.map((s) => [...s]);
  }

  get tokens(): readonly number[] {
    return this.cache;
  }

  /** The prompts given to generate(), in order. */
  get prompts(): number[][] {
    return this.calls.map((c) => c.prompt);
  }

  async *generate(prompt: readonly number[], sampling: SamplingOptions, signal?: AbortSignal): AsyncIterable<TokenEvent> {
    if (this.disposed) throw new Error("ScriptedEngineSession: generate() after dispose()");
    const script = this.scripts.shift();
    if (script === undefined) throw new Error(`ScriptedEngineSession: no script left for generate() call ${this.calls.length + 1}`);
    this.calls.push({ prompt: [...prompt], sampling: { ...sampling } });

    let reused = 0;
    while (reused < prompt.length && reused < this.cache.length && this.cache[reused] === prompt[reused]) reused++;
    this.cache = [...prompt];

    const stops = new Set(sampling.stopIds ?? []);
    const max = sampling.maxTokens ?? Infinity;
    let generated = 0;
    let finishReason: GenerationStats["finishReason"] = "stop";
    for (const id of script) {
      // A microtask boundary per token, so consumers see a real asynchronous stream.
      await Promise.resolve();
      if (signal?.aborted === true) {
        finishReason = "cancelled";
        break;
      }
      if (generated >= max) {
        finishReason = "length";
        break;
      }
      this.options.onToken?.(generated, id);
      if (signal?.aborted === true) {
        finishReason = "cancelled";
        break;
      }
      this.cache.push(id);
      yield { type: "token", id, index: generated, elapsedMs: 0 };
      generated++;
      if (stops.has(id)) break;
    }
    if (finishReason === "stop" && generated === script.length && generated >= max && !stops.has(script[script.length - 1]!)) {
      finishReason = "length";
    }
    yield {
      type: "done",
      stats: {
        promptTokens: prompt.length,
        reusedTokens: reused,
        prefilledTokens: prompt.length - reused,
        generatedTokens: generated,
        prefillMs: 0,
        decodeMs: 0,
        timeToFirstTokenMs: 0,
        prefillTokPerS: 0,
        decodeTokPerS: 0,
        finishReason,
      },
    };
  }

  async logits(_ids: readonly number[]): Promise<Float32Array[]> {
    throw new Error("ScriptedEngineSession: logits() is not scripted");
  }

  truncate(length: number): void {
    this.cache = this.cache.slice(0, length);
  }

  kvBytes(): number {
    return 0;
  }

  dispose(): void {
    this.disposed = true;
  }
}
