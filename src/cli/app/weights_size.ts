// Size of a checkpoint's weights before loading it, for the loading screen's memory estimate:
// the sum of the safetensors shards on disk (what the engine maps). Unknown → undefined.
import { readdirSync, statSync } from "node:fs";
import path from "node:path";

export function checkpointWeightBytes(dir: string): number | undefined {
  try {
    let total = 0;
    for (const name of readdirSync(dir)) {
      if (name.endsWith(".safetensors")) total += statSync(path.join(dir, name)).size;
    }
    return total > 0 ? total : undefined;
  } catch {
    return undefined; // the loader reports an unreadable folder properly a moment later
  }
}
