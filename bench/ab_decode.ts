// Paired A/B of decode speed inside one process: `K2_AB` is set to "0" and "1" for adjacent
// 128-token decode runs of one engine (order alternating), and the median of the pairs' speed
// ratios is printed. On a machine shared with other tenants, separate processes minutes apart
// differ by ±15%; adjacent runs of one engine resolve about ±2% with 30 pairs.
//
// The engine code under test reads the switch itself: add a temporary
//   const b = getenv("K2_AB") && getenv("K2_AB")[0] == '1';
// where the two variants differ (read it once per op, not per row: getenv takes ~100 ns), build,
// and run `node dist/bench/ab_decode.js [--pairs 30] [--gen 128] [--depth 0] [--mode fast|exact]
// [--model DIR]` (the model defaults to the engine benchmark's checkpoint; --depth N prefills N
// tokens before each measured decode, as llama-bench -d, and makes every run that much longer).
// Node's process.env writes the real environment, which is how the switch reaches the addon
// between runs.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { openEngine } from "../src/engine/open_engine.js";
import { decodeRun, median } from "../src/cli/engine/pp_tg_benchmark.js";
import { ensureBenchCheckpoint } from "./engine_bench.js";

interface AbOptions {
  pairs: number;
  gen: number;
  depth: number;
  mode: "fast" | "exact";
  model: string | null;
}

function parseArgs(argv: string[]): AbOptions {
  const o: AbOptions = { pairs: 30, gen: 128, depth: 0, mode: "fast", model: null };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`ab_decode: ${flag} needs a value`);
    i++;
    if (flag === "--pairs" || flag === "--gen") {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new Error(`ab_decode: ${flag} must be a whole number >= 1 (got ${value})`);
      if (flag === "--pairs") o.pairs = n;
      else o.gen = n;
    } else if (flag === "--depth") {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) throw new Error(`ab_decode: --depth must be a whole number >= 0 (got ${value})`);
      o.depth = n;
    } else if (flag === "--mode") {
      if (value !== "fast" && value !== "exact") throw new Error(`ab_decode: --mode must be fast or exact (got ${value})`);
      o.mode = value;
    } else if (flag === "--model") {
      if (!existsSync(join(value, "config.json"))) throw new Error(`ab_decode: --model ${value} has no config.json`);
      o.model = value;
    } else {
      throw new Error(`ab_decode: unknown option ${flag} (have --pairs, --gen, --depth, --mode, --model)`);
    }
  }
  return o;
}

export async function run(argv: string[]): Promise<{ ratios: number[]; a: number[]; b: number[] }> {
  const o = parseArgs(argv);
  const dir = o.model ?? (await ensureBenchCheckpoint());
  const engine = await openEngine(dir, { threads: 2, cpuMode: o.mode, contextSize: Math.max(1024, o.depth + o.gen + 2) });
  try {
    // A 300-token prefill touches every expert of a benchmark-sized model, so no run pays page-ins.
    await decodeRun(engine, 4, 299);
    const a: number[] = [], b: number[] = [], ratios: number[] = [];
    for (let i = 0; i < o.pairs; i++) {
      const got: Record<string, number> = {};
      for (const side of i % 2 ? ["1", "0"] : ["0", "1"]) {
        process.env.K2_AB = side;
        got[side] = await decodeRun(engine, o.gen, o.depth);
      }
      a.push(got["0"]!);
      b.push(got["1"]!);
      ratios.push(got["1"]! / got["0"]!);
    }
    delete process.env.K2_AB;
    const mean = ratios.reduce((x, y) => x + y, 0) / ratios.length;
    console.log(
      `A (K2_AB=0) median ${median(a).toFixed(1)} tok/s · B (K2_AB=1) median ${median(b).toFixed(1)} tok/s · ` +
        `B/A median of ${o.pairs} pairs ${median(ratios).toFixed(3)}, mean ${mean.toFixed(3)}`,
    );
    console.log(`  ratios ${ratios.map((r) => r.toFixed(2)).join(" ")}`);
    console.log(`  A tok/s ${a.map((r) => r.toFixed(0)).join(" ")}`);
    return { ratios, a, b };
  } finally {
    engine.dispose();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  try {
    await run(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
