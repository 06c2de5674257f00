// Opens the engine for one CLI command and guarantees it is released however the command ends.
import { formatMemoryPlan } from "../../engine/memory_plan.js";
import type { NativeEngine } from "../../engine/open_engine.js";
import type { LoadOptions } from "../../engine/types.js";

export async function withEngine<T>(dir: string, opts: LoadOptions, body: (engine: NativeEngine, loadMs: number) => Promise<T>): Promise<T> {
  const { openEngine } = await import("../../engine/open_engine.js");
  const t0 = performance.now();
  const engine = await openEngine(dir, opts);
  const loadMs = performance.now() - t0;
  // Only a budget that streams experts is worth a line: the usual run's stderr stays quiet.
  if (engine.memoryPlan.streaming) process.stderr.write(`memory: ${formatMemoryPlan(engine.memoryPlan)}\n`);
  try {
    return await body(engine, loadMs);
  } finally {
    engine.dispose();
  }
}

/** Aborts `controller` on Ctrl+C for the duration of `body`, so generation stops within one token. */
export async function withInterrupt<T>(controller: AbortController, body: () => Promise<T>): Promise<T> {
  const onSigint = () => controller.abort();
  process.once("SIGINT", onSigint);
  try {
    return await body();
  } finally {
    process.removeListener("SIGINT", onSigint);
  }
}
