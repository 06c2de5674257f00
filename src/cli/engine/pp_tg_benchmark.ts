// The llama-bench counterpart: pp = prefill throughput of a p-token prompt from an empty cache,
// tg = decode throughput of n tokens (after `depth` cached tokens: llama-bench's -d), each the
// median of `reps` runs after one warm-up run.
import { EngineError } from "../../errors.js";
import type { Engine } from "../../engine/types.js";

export interface ThroughputResult {
  tokens: number;
  tokPerS: number; // median
  runs: number[]; // tok/s of each measured run
  /** What `probe` returned before each measured decode run and after the last (reps + 1 values). */
  probes?: number[];
}

export interface PpTgResult {
  pp: ThroughputResult | null;
  tg: ThroughputResult | null;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Deterministic prompt ids spread over the vocabulary (what the tokens are does not change the work). */
export function benchPromptIds(count: number, vocabSize: number): number[] {
  const ids: number[] = [];
  let s = 12345;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    ids.push(s % Math.min(vocabSize, 100000));
  }
  return ids;
}

async function prefillRun(engine: Engine, prompt: number[], signal?: AbortSignal): Promise<number> {
  const session = engine.createSession();
  try {
    for await (const ev of session.generate(prompt, { maxTokens: 1, temperature: 0, stopIds: [] }, signal)) {
      if (ev.type === "done") {
        if (ev.stats.finishReason === "cancelled") throw new EngineError("benchmark cancelled");
        if (ev.stats.prefilledTokens !== prompt.length) throw new EngineError(`prefill computed ${ev.stats.prefilledTokens} of ${prompt.length} prompt tokens`);
        return (prompt.length / ev.stats.prefillMs) * 1000;
      }
    }
    throw new EngineError("generation ended without a done event");
  } finally {
    session.dispose();
  }
}

/**
 * Times n decode steps: from the first generated token (which the prefill of the depth + 1 prompt
 * tokens yields) to the (n+1)-th, so the prefill is not counted.
 */
export async function decodeRun(engine: Engine, n: number, depth: number, signal?: AbortSignal): Promise<number> {
  const session = engine.createSession();
  try {
    let first = -1, last = -1, count = 0;
    for await (const ev of session.generate(benchPromptIds(depth + 1, engine.info.vocabSize), { maxTokens: n + 1, temperature: 0, stopIds: [] }, signal)) {
      if (ev.type === "token") {
        if (count === 0) first = ev.elapsedMs;
        last = ev.elapsedMs;
        count++;
      } else if (ev.stats.finishReason === "cancelled") {
        throw new EngineError("benchmark cancelled");
      }
    }
    if (count !== n + 1) throw new EngineError(`decode produced ${count} tokens, expected ${n + 1}`);
    return (n / (last - first)) * 1000;
  } finally {
    session.dispose();
  }
}

export async function runPpTg(
  engine: Engine,
  opts: {
    promptTokens: number;
    genTokens: number;
    depth?: number;
    reps: number;
    signal?: AbortSignal;
    /**
     * Measured right before each decode run and after the last (the engine bench: memory
     * bandwidth), so a run can be compared with the machine as it was during that run.
     */
    probe?: () => number;
  },
): Promise<PpTgResult> {
  const depth = opts.depth ?? 0;
  const result: PpTgResult = { pp: null, tg: null };
  if (opts.promptTokens > 0) {
    const prompt = benchPromptIds(opts.promptTokens, engine.info.vocabSize);
    await prefillRun(engine, prompt, opts.signal); // warm-up: page in weights, spin up threads
    const runs: number[] = [];
    for (let r = 0; r < opts.reps; r++) runs.push(await prefillRun(engine, prompt, opts.signal));
    result.pp = { tokens: opts.promptTokens, tokPerS: median(runs), runs };
  }
  if (opts.genTokens > 0) {
    await decodeRun(engine, Math.min(opts.genTokens, 16), depth, opts.signal);
    const runs: number[] = [];
    const probes: number[] = [];
    for (let r = 0; r < opts.reps; r++) {
      if (opts.probe) probes.push(opts.probe());
      runs.push(await decodeRun(engine, opts.genTokens, depth, opts.signal));
    }
    if (opts.probe) probes.push(opts.probe());
    result.tg = { tokens: opts.genTokens, tokPerS: median(runs), runs, ...(opts.probe ? { probes } : {}) };
  }
  return result;
}
