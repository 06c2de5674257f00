// Settings → the engine's SamplingOptions (unset fields fall back to generation_config.json).
import type { Settings } from "../../config/settings_schema.js";
import type { SamplingOptions } from "../../engine/types.js";

export function samplingFromSettings(s: Settings): SamplingOptions {
  const out: SamplingOptions = {};
  if (s.temperature !== undefined) out.temperature = s.temperature;
  if (s.topP !== undefined) out.topP = s.topP;
  if (s.topK !== undefined) out.topK = s.topK;
  if (s.minP !== undefined) out.minP = s.minP;
  if (s.seed !== undefined) out.seed = s.seed;
  if (s.maxTokens !== undefined) out.maxTokens = s.maxTokens;
  return out;
}
