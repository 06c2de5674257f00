// `npm run bench [-- <suite>...]`: runs every registered benchmark suite, or the named ones, in
// order. Each suite is a file bench/<name>_bench.ts exporting `run()`, which prints its own
// results (ratios against a reference) and returns them; add a suite with one line below.
import { pathToFileURL } from "node:url";

type Suite = () => Promise<{ run(): Promise<unknown> }>;

const SUITES: Record<string, Suite> = {
  tokenizer: () => import("./tokenizer_bench.js"),
  agent: () => import("./agent_bench.js"),
  memory: () => import("./memory_bandwidth_bench.js"),
  engine: () => import("./engine_bench.js"),
  kernels: () => import("./cpu_kernels_bench.js"),
  experts: () => import("./expert_bench.js"),
  simulate: () => import("./expert_sim_bench.js"),
  server: () => import("./server_bench.js"),
  startup: () => import("./startup_bench.js"),
};

export async function runSuites(names: string[]): Promise<number> {
  const unknown = names.filter((n) => !(n in SUITES));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown suite ${unknown.join(", ")} (have: ${Object.keys(SUITES).join(", ")})\n`);
    return 2;
  }
  const selected = names.length > 0 ? names : Object.keys(SUITES);
  const failed: string[] = [];
  for (const name of selected) {
    console.log(`\n=== ${name} ===`);
    try {
      await (await SUITES[name]!()).run();
    } catch (err) {
      // One broken suite must not hide the others' numbers; the exit code still reports it.
      failed.push(name);
      process.stderr.write(`bench ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
  }
  if (failed.length > 0) {
    process.stderr.write(`\nbench: ${failed.length} suite(s) failed: ${failed.join(", ")}\n`);
    return 1;
  }
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.exitCode = await runSuites(process.argv.slice(2));
}
