// k2 logits: full prefill of --ids, printing {"logits": [[...], ...]}, one row per position.
import { EngineError } from "../../errors.js";
import { checkIdsInVocab, loadOptionsFromFlags, parseIds, type CommonEngineFlags } from "./engine_flags.js";
import { withEngine } from "./open_for_command.js";
import { writeStdout } from "./stdout.js";

export interface LogitsFlags extends CommonEngineFlags {
  ids: string;
}

/**
 * One row as JSON. A float32 widened to a double prints (shortest round-trip form) as digits that
 * parse back to the same double, hence the same float32: no precision is lost in transit.
 */
export function logitsRowJson(row: Float32Array, position: number): string {
  for (let v = 0; v < row.length; v++) {
    if (!Number.isFinite(row[v]!)) throw new EngineError(`logits at position ${position}, token ${v} are ${row[v]}: the forward pass diverged`);
  }
  return `[${row.join(",")}]`;
}

export async function runLogitsCommand(flags: LogitsFlags): Promise<void> {
  const ids = parseIds("--ids", flags.ids);
  const opts = loadOptionsFromFlags(flags, ids.length);
  await withEngine(flags.model, opts, async (engine) => {
    checkIdsInVocab("--ids", ids, engine.info.vocabSize);
    const session = engine.createSession();
    try {
      const rows = await session.logits(ids);
      if (rows.length !== ids.length) throw new EngineError(`engine returned ${rows.length} logit rows for ${ids.length} positions`);
      await writeStdout('{"logits": [');
      for (let t = 0; t < rows.length; t++) await writeStdout((t ? ",\n" : "\n") + logitsRowJson(rows[t]!, t));
      await writeStdout("\n]}\n");
    } finally {
      session.dispose();
    }
  });
}
