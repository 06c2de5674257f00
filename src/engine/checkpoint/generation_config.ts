// generation_config.json -> the sampling defaults generation starts from (fields absent there stay
// unset, and the engine's own defaults apply).
import { join } from "node:path";
import { CheckpointError } from "../../errors.js";
import type { SamplingOptions } from "../types.js";
import { readJsonObject } from "./json_file.js";

export async function readGenerationConfig(dir: string, vocabSize: number, configEosIds: readonly number[]): Promise<SamplingOptions> {
  const path = join(dir, "generation_config.json");
  const g = (await readJsonObject(path, "generation_config.json", true)) ?? {};
  const num = (field: string, ok: (v: number) => boolean, rule: string): number | undefined => {
    const v = g[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v) || !ok(v)) throw new CheckpointError(path, `field "${field}" ${rule} (got ${JSON.stringify(v)})`);
    return v;
  };
  const out: SamplingOptions = {};
  const temperature = num("temperature", (v) => v >= 0, "must be a number >= 0");
  const topP = num("top_p", (v) => v > 0 && v <= 1, "must be in (0, 1]");
  const topK = num("top_k", (v) => Number.isInteger(v) && v >= 0, "must be an integer >= 0");
  const minP = num("min_p", (v) => v >= 0 && v < 1, "must be in [0, 1)");
  const rep = num("repetition_penalty", (v) => v > 0, "must be > 0");
  const maxNew = num("max_new_tokens", (v) => Number.isInteger(v) && v > 0, "must be a positive integer");
  if (g.do_sample === false) out.temperature = 0; // transformers: do_sample false means greedy whatever the temperature says
  else if (temperature !== undefined) out.temperature = temperature;
  if (topP !== undefined) out.topP = topP;
  if (topK !== undefined) out.topK = topK;
  if (minP !== undefined) out.minP = minP;
  if (rep !== undefined) out.repetitionPenalty = rep;
  if (maxNew !== undefined) out.maxTokens = maxNew;

  const eos = g.eos_token_id;
  const list = eos === undefined || eos === null ? [] : Array.isArray(eos) ? eos : [eos];
  for (const id of list) {
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new CheckpointError(path, `field "eos_token_id" must hold token ids below vocab_size ${vocabSize} (got ${JSON.stringify(eos)})`);
    }
  }
  const stops = [...new Set([...(list as number[]), ...configEosIds])];
  if (stops.length > 0) out.stopIds = stops;
  return out;
}
