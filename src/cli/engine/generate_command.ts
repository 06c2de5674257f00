// k2 generate: prompt ids in, generated ids out (streamed, or one JSON object with --json).
import { InterruptedError, UsageError } from "../../errors.js";
import type { GenerationStats, SamplingOptions } from "../../engine/types.js";
import { checkIdsInVocab, loadOptionsFromFlags, parseIntFlag, parseNumberFlag, parseIds, type CommonEngineFlags } from "./engine_flags.js";
import { withEngine, withInterrupt } from "./open_for_command.js";
import { writeStdout } from "./stdout.js";

export interface GenerateFlags extends CommonEngineFlags {
  ids: string;
  maxTokens: string;
  temperature?: string;
  topP?: string;
  topK?: string;
  minP?: string;
  repetitionPenalty?: string;
  presencePenalty?: string;
  seed?: string;
  stopIds?: string;
  ignoreEos?: boolean;
  json?: boolean;
}

/** Flags given on the command line; anything unset keeps the checkpoint's generation_config.json value. */
export function samplingFromFlags(f: GenerateFlags): SamplingOptions {
  const s: SamplingOptions = {};
  const set = <K extends keyof SamplingOptions>(k: K, v: SamplingOptions[K] | undefined) => {
    if (v !== undefined) s[k] = v;
  };
  set("maxTokens", parseIntFlag("--max-tokens", f.maxTokens, 1, 1 << 24));
  set("temperature", parseNumberFlag("--temperature", f.temperature, (n) => n >= 0, "a number >= 0"));
  set("topP", parseNumberFlag("--top-p", f.topP, (n) => n > 0 && n <= 1, "in (0, 1]"));
  set("topK", parseIntFlag("--top-k", f.topK, 0));
  set("minP", parseNumberFlag("--min-p", f.minP, (n) => n >= 0 && n < 1, "in [0, 1)"));
  set("repetitionPenalty", parseNumberFlag("--repetition-penalty", f.repetitionPenalty, (n) => n > 0, "a number > 0"));
  set("presencePenalty", parseNumberFlag("--presence-penalty", f.presencePenalty, Number.isFinite, "a number"));
  set("seed", parseIntFlag("--seed", f.seed, 0, 2 ** 32 - 1));
  // Either list replaces the checkpoint's eos ids, so giving both would silently drop one.
  if (f.ignoreEos && f.stopIds !== undefined) throw new UsageError("--stop-ids and --ignore-eos contradict each other: give one");
  if (f.ignoreEos) s.stopIds = [];
  if (f.stopIds !== undefined) s.stopIds = parseIds("--stop-ids", f.stopIds);
  return s;
}

export interface GenerateResult {
  ids: number[];
  stats: GenerationStats & { loadMs: number };
}

export async function runGenerateCommand(flags: GenerateFlags): Promise<void> {
  const prompt = parseIds("--ids", flags.ids);
  const sampling = samplingFromFlags(flags);
  const opts = loadOptionsFromFlags(flags, prompt.length + (sampling.maxTokens ?? 0));
  const controller = new AbortController();
  await withEngine(flags.model, opts, async (engine, loadMs) => {
    checkIdsInVocab("--ids", prompt, engine.info.vocabSize);
    if (sampling.stopIds) checkIdsInVocab("--stop-ids", sampling.stopIds, engine.info.vocabSize);
    const session = engine.createSession();
    try {
      const ids: number[] = [];
      let stats: GenerationStats | undefined;
      await withInterrupt(controller, async () => {
        for await (const ev of session.generate(prompt, sampling, controller.signal)) {
          if (ev.type === "token") {
            ids.push(ev.id);
            if (!flags.json) await writeStdout(`${ids.length > 1 ? " " : ""}${ev.id}`);
          } else {
            stats = ev.stats;
          }
        }
      });
      if (!flags.json) await writeStdout("\n");
      if (stats?.finishReason === "cancelled" || controller.signal.aborted) throw new InterruptedError(`interrupted after ${ids.length} tokens`);
      const full = { ...stats!, loadMs };
      if (flags.json) {
        const result: GenerateResult = { ids, stats: full };
        await writeStdout(JSON.stringify(result) + "\n");
      } else {
        process.stderr.write(
          `load ${full.loadMs.toFixed(0)} ms · prefill ${full.prefilledTokens} tok ${full.prefillMs.toFixed(1)} ms (${full.prefillTokPerS.toFixed(1)} tok/s) · ` +
            `decode ${full.generatedTokens} tok ${full.decodeMs.toFixed(1)} ms (${full.decodeTokPerS.toFixed(1)} tok/s) · ${full.finishReason}\n`,
        );
        const x = full.experts;
        if (x !== undefined) {
          process.stderr.write(
            `experts: ${(x.hitRate * 100).toFixed(1)}% hit (${x.hits}/${x.hits + x.misses}) · read ${(x.bytesRead / 1e6).toFixed(1)} MB at ${x.readGBps.toFixed(2)} GB/s · ` +
              `stalls ${x.stallMs.toFixed(0)} ms · prefetch precision ${(x.prefetchPrecision * 100).toFixed(0)}% · resident ${(x.residentBytes / 1e6).toFixed(1)} MB\n`,
          );
        }
      }
    } finally {
      session.dispose();
    }
  });
}
