// Startup: `k2 --version` / `k2 --help` against bare `node -e 0` (the floor no CLI can beat), and
// the interactive app's cold start to its first frame (the loading screen) and to the ready chat
// screen on the tiny checkpoint, through a real pseudo-terminal (`script`).
// Run: `npm run bench -- startup`, or `node dist/bench/startup_bench.js` alone (after tsc).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MAIN = path.resolve(HERE, "..", "src", "cli", "main.js");
const TINY = path.resolve(HERE, "..", "..", "..", "shared", "fixtures", "kimi-k2-tiny");
const REPS = 9;

export interface StartupBenchResult {
  nodeFloorMs: number;
  versionMs: number;
  helpMs: number;
  versionOverFloor: number;
  firstOutputMs: number;
  firstFrameMs: number;
  readyMs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeSpawn(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: "utf8" });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

/** Interleaved runs so both sides see the same machine load. */
function interleaved(): { floor: number; version: number; help: number } {
  const floor: number[] = [];
  const version: number[] = [];
  const help: number[] = [];
  timeSpawn([MAIN, "--version"]); // warm the file cache
  for (let i = 0; i < REPS; i++) {
    floor.push(timeSpawn(["-e", "0"]));
    version.push(timeSpawn([MAIN, "--version"]));
    help.push(timeSpawn([MAIN, "--help"]));
  }
  return { floor: median(floor), version: median(version), help: median(help) };
}

/** Time from spawn to the first output (plain banner), the first Ink frame ("Loading …") and the chat screen ("ready"). */
function coldStart(): Promise<{ firstOutputMs: number; firstFrameMs: number; readyMs: number }> {
  const home = mkdtempSync(path.join(os.tmpdir(), "k2-startup-bench-"));
  const cwd = mkdtempSync(path.join(os.tmpdir(), "k2-startup-cwd-"));
  const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(MAIN)} --model ${JSON.stringify(TINY)}`;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn("script", ["-qfec", command, "/dev/null"], { cwd, env: { ...process.env, K2_HOME: home, TERM: "xterm-256color", COLUMNS: "100", LINES: "30" } });
    let out = "";
    let firstFrameMs: number | undefined;
    let firstOutputMs: number | undefined;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`k2 did not reach the chat screen in 120 s; output:\n${out.slice(-2000)}`));
    }, 120_000);
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (firstOutputMs === undefined && out.includes("starting")) firstOutputMs = performance.now() - t0;
      if (firstFrameMs === undefined && out.includes("Loading")) firstFrameMs = performance.now() - t0;
      if (out.includes("ready ·")) {
        const readyMs = performance.now() - t0;
        clearTimeout(timer);
        child.stdin.write("\u0004"); // Ctrl+D: exit
        const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
        child.on("exit", () => {
          clearTimeout(kill);
          resolve({ firstOutputMs: firstOutputMs ?? readyMs, firstFrameMs: firstFrameMs ?? readyMs, readyMs });
        });
      }
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export async function run(): Promise<StartupBenchResult> {
  const t = interleaved();
  console.log(`median of ${REPS}, interleaved (load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores):`);
  console.log(`  node -e 0 (floor)   ${t.floor.toFixed(0)} ms`);
  console.log(`  k2 --version        ${t.version.toFixed(0)} ms   ${(t.version / t.floor).toFixed(2)}x floor, +${(t.version - t.floor).toFixed(0)} ms`);
  console.log(`  k2 --help           ${t.help.toFixed(0)} ms   ${(t.help / t.floor).toFixed(2)}x floor, +${(t.help - t.floor).toFixed(0)} ms`);
  const c = await coldStart();
  console.log(`interactive cold start on kimi-k2-tiny (pty via script):`);
  console.log(`  first output (plain banner)   ${c.firstOutputMs.toFixed(0)} ms   ${(c.firstOutputMs / t.floor).toFixed(2)}x floor`);
  console.log(`  first Ink frame (loading bar) ${c.firstFrameMs.toFixed(0)} ms   ${(c.firstFrameMs / t.floor).toFixed(2)}x floor`);
  console.log(`  chat screen ready             ${c.readyMs.toFixed(0)} ms`);
  return { nodeFloorMs: t.floor, versionMs: t.version, helpMs: t.help, versionOverFloor: t.version / t.floor, firstOutputMs: c.firstOutputMs, firstFrameMs: c.firstFrameMs, readyMs: c.readyMs };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await run();
}
