// What loading a checkpoint will cost in memory, known before the engine starts: the shards the
// engine maps (resident as pages are touched) and the KV cache the session may grow to.
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { readCheckpointConfig } from "../../engine/checkpoint/checkpoint_config.js";
import { kvBytesPerToken } from "../../engine/checkpoint/model_info.js";
import { DEFAULT_BUDGET_FRACTION, defaultBudget } from "../../engine/memory_plan.js";
import type { Settings } from "../../config/settings_schema.js";
import type { LoadMemoryEstimate } from "../../ui/components/LoadProgress.js";


export async function estimateLoadMemory(dir: string, settings: Settings): Promise<LoadMemoryEstimate | undefined> {
  let weightsBytes = 0;
  try {
    for (const name of readdirSync(dir)) if (name.endsWith(".safetensors")) weightsBytes += statSync(path.join(dir, name)).size;
  } catch {
    return undefined; // an unreadable folder is reported by the loader a moment later, with its path
  }
  if (weightsBytes === 0) return undefined;
  const estimate: LoadMemoryEstimate = { weightsBytes };
  // The engine's rule (memory_plan.ts): experts beyond the budget stream from disk.
  estimate.budgetBytes = settings.memoryBudgetGB !== undefined ? settings.memoryBudgetGB * 1024 ** 3 : defaultBudget();
  estimate.budgetSource = settings.memoryBudgetGB !== undefined ? "memory budget" : `default budget, ${Math.round(DEFAULT_BUDGET_FRACTION * 100)}% of RAM`;
  try {
    const cfg = await readCheckpointConfig(dir);
    estimate.contextTokens = Math.min(settings.contextSize ?? cfg.native.max_position_embeddings, cfg.native.max_position_embeddings);
    estimate.kvBytes = kvBytesPerToken(cfg.native) * estimate.contextTokens;
  } catch {
    // A bad config.json is the loader's error to report (CheckpointError naming the field); the
    // estimate just leaves the KV cache out.
  }
  return estimate;
}
