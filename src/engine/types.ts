// The engine's public, token-level contract. engine/ never imports chat/ or agent/: it speaks
// token ids, sampling settings and telemetry only.

/** Sampling settings for one generation. Unset fields take the checkpoint's generation_config.json. */
export interface SamplingOptions {
  temperature?: number; // 0 = greedy
  topP?: number;
  topK?: number; // 0 = off
  minP?: number; // 0 = off
  repetitionPenalty?: number; // 1 = off
  presencePenalty?: number; // 0 = off
  seed?: number; // reproducible sampling
  maxTokens?: number;
  stopIds?: number[]; // generation ends after emitting one of these (it is emitted)
}

/** Timing and cache telemetry of one generation (or one prefill). */
export interface GenerationStats {
  promptTokens: number; // tokens in the prompt passed to generate()
  reusedTokens: number; // prompt tokens served from the session's KV cache (prefix reuse)
  prefilledTokens: number; // prompt tokens actually computed
  generatedTokens: number;
  prefillMs: number;
  decodeMs: number;
  timeToFirstTokenMs: number;
  prefillTokPerS: number;
  decodeTokPerS: number;
  finishReason: "stop" | "length" | "cancelled";
  /** Expert-cache telemetry when the engine streams experts (absent when every expert is resident). */
  experts?: ExpertTelemetry;
}

export interface ExpertTelemetry {
  /** Expert requests served from the cache / that waited for a read (per generation). */
  hits: number;
  misses: number;
  hitRate: number;
  bytesRead: number;
  readGBps: number;
  stallMs: number;
  prefetchPrecision: number;
  residentBytes: number;
}

/** One event of a token stream, in order: any number of `token`, then exactly one `done`. */
export type TokenEvent =
  | { type: "token"; id: number; index: number; elapsedMs: number }
  | { type: "done"; stats: GenerationStats };

/** Architecture summary from config.json and the tensor table. */
export interface ModelInfo {
  dir: string;
  architecture: string;
  modelType: string;
  hiddenSize: number;
  layers: number;
  denseLayers: number;
  heads: number;
  vocabSize: number;
  routedExperts: number;
  expertsPerToken: number;
  sharedExperts: number;
  /** How routed experts are stored: pack-quantized INT4 group 32, or plain BF16 (no quantization_config). */
  expertFormat: "int4" | "bf16";
  kvLoraRank: number;
  qkRopeHeadDim: number;
  maxPositionEmbeddings: number;
  params: { total: number; dense: number; experts: number; activePerToken: number };
  bytes: { total: number; dense: number; experts: number; perExpert: number };
  kvBytesPerToken: number;
  bosId: number;
  eosId: number;
}

export interface LoadOptions {
  threads?: number;
  contextSize?: number; // KV-cache capacity in tokens
  backend?: "cpu" | "metal" | "metal-emu";
  cpuMode?: "exact" | "fast";
  defaultCpuMode?: "exact" | "fast"; // when neither cpuMode nor K2_CPU_MODE says (app and server: fast)
  memoryBudget?: number; // bytes (default: DEFAULT_BUDGET_FRACTION of physical memory)
  expertIo?: "pread" | "mmap"; // how the expert cache reads experts that do not fit
  recordRoutes?: string; // route trace file for every token's routed experts (--record-routes)
  onProgress?: (p: LoadProgress) => void;
}

export interface LoadProgress {
  phase: "headers" | "mapping" | "experts" | "ready";
  /** Shards (headers, mapping) or routed experts (experts) done so far, of `total`. */
  done: number;
  total: number;
  /** Checkpoint bytes covered so far (headers read / shards mapped), and in all once known. */
  bytesDone?: number;
  bytesTotal?: number;
}

/** A conversation's KV cache on an engine. Tokens appended to `tokens` are what the cache holds. */
export interface EngineSession {
  /** Tokens currently held in the KV cache. */
  readonly tokens: readonly number[];
  /**
   * Makes the cache hold `prompt` (reusing the longest common prefix, prefilling the rest), then
   * samples up to maxTokens tokens, streaming them. Generated tokens stay in the cache.
   */
  generate(prompt: readonly number[], sampling: SamplingOptions, signal?: AbortSignal): AsyncIterable<TokenEvent>;
  /** Logits after each of `ids` (full prefill from position 0; the cache is reset first). */
  logits(ids: readonly number[]): Promise<Float32Array[]>;
  truncate(length: number): void;
  kvBytes(): number;
  dispose(): void;
}

export interface Engine {
  readonly info: ModelInfo;
  createSession(): EngineSession;
  dispose(): void;
}
