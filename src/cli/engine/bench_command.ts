// k2 bench: pp<p> / tg<n> throughput of one checkpoint (see pp_tg_benchmark.ts).
import { UsageError } from "../../errors.js";
import { loadOptionsFromFlags, parseChoiceFlag, parseIntFlag, type CommonEngineFlags } from "./engine_flags.js";
import { withEngine, withInterrupt } from "./open_for_command.js";
import { runPpTg } from "./pp_tg_benchmark.js";
import { resolvePlanOptions } from "../../engine/checkpoint/load_options.js";
import { writeStdout } from "./stdout.js";

export interface BenchFlags extends CommonEngineFlags {
  promptTokens: string;
  genTokens: string;
  depth: string;
  reps: string;
  mode?: string;
  json?: boolean;
}

export async function runBenchCommand(flags: BenchFlags): Promise<void> {
  const promptTokens = parseIntFlag("--prompt-tokens", flags.promptTokens, 0, 1 << 20)!;
  const genTokens = parseIntFlag("--gen-tokens", flags.genTokens, 0, 1 << 20)!;
  const reps = parseIntFlag("--reps", flags.reps, 1, 1000)!;
  const depth = parseIntFlag("--depth", flags.depth, 0, 1 << 20)!;
  if (promptTokens === 0 && genTokens === 0) throw new UsageError("--prompt-tokens and --gen-tokens are both 0: nothing to measure");
  const mode = parseChoiceFlag("--mode", flags.mode, ["exact", "fast"] as const);
  if (mode && flags.cpuMode && mode !== flags.cpuMode) throw new UsageError(`--mode ${mode} contradicts --cpu-mode ${flags.cpuMode}`);
  const opts = loadOptionsFromFlags({ ...flags, cpuMode: flags.cpuMode ?? mode }, Math.max(promptTokens + 1, depth + genTokens + 2));
  const controller = new AbortController();
  await withEngine(flags.model, opts, async (engine, loadMs) => {
    const r = await withInterrupt(controller, () => runPpTg(engine, { promptTokens, genTokens, depth, reps, signal: controller.signal }));
    const run = resolvePlanOptions(opts); // what the engine was opened with: flags, then env, then defaults
    const out = {
      model: engine.info.dir,
      threads: run.threads,
      cpuMode: run.cpuMode,
      backend: run.backend,
      // The engine's own description, e.g. "cpu (avx512, fast, 2 threads)": names the kernel tier.
      backendDetail: engine.details.backend,
      loadMs,
      reps,
      depth,
      ...r,
    };
    if (flags.json) {
      await writeStdout(JSON.stringify(out) + "\n");
      return;
    }
    const lines = [`model ${out.model} · backend ${out.backendDetail} · mode ${out.cpuMode} · threads ${out.threads} · median of ${reps}`];
    if (r.pp) lines.push(`pp${r.pp.tokens}  ${r.pp.tokPerS.toFixed(2)} tok/s  (runs ${r.pp.runs.map((x) => x.toFixed(1)).join(", ")})`);
    if (r.tg) lines.push(`tg${r.tg.tokens}${depth ? ` @ d${depth}` : ""}  ${r.tg.tokPerS.toFixed(2)} tok/s  (runs ${r.tg.runs.map((x) => x.toFixed(1)).join(", ")})`);
    await writeStdout(lines.join("\n") + "\n");
  });
}
