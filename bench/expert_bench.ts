// The expert cache on the benchmark-size checkpoint (engine_bench's synthetic 2.2 GB model,
// 1,344 routed experts): each memory budget runs in its own child process so its peak RSS
// (VmHWM from /proc/self/status) is its own. Budgets are the memory plan's dense + KV + reserve
// plus 100 / 50 / 25 / 10% of the expert bytes; the reference is an unbudgeted run (every expert
// mapped). For each: greedy tokens and prefill logits bit-identical to the reference?, peak RSS
// against the budget, hit rate, expert bytes read and GB/s, stall time, prefetch precision and
// decode tok/s. Before every child the shards are dropped from the page cache (cold start), and
// this disk's sequential read bandwidth (8 MiB direct reads, 4 threads) is measured in the same
// run so the cold read throughput is reported as a fraction of it.
// Run: `npm run bench -- experts` (after `npm run build`). K2_BENCH_DIR reuses a checkpoint.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ensureBenchCheckpoint } from "./engine_bench.js";
import { loadCheckpointPlan } from "../src/engine/checkpoint/load_checkpoint_plan.js";
import { expertSlotBytes, RUNTIME_RESERVE_BYTES } from "../src/engine/memory_plan.js";
import { openEngine } from "../src/engine/open_engine.js";
import { loadAddon } from "../src/engine/native_addon.js";
import type { GenerationStats } from "../src/engine/types.js";

const THREADS = 2;
const PROMPT = 32;
const GEN = 24;
const CONTEXT = PROMPT + GEN + 8;
const FRACTIONS = [1, 0.5, 0.25, 0.1];
const SEQ_READ_BYTES = 2 ** 40; // whole shards

interface ChildArgs {
  dir: string;
  budget?: number;
  io: "pread" | "mmap";
}

interface ChildResult {
  ids: number[];
  logitsSha: string;
  vmHwm: number;
  streaming: boolean;
  directIo: boolean | null;
  cachedExperts: number;
  loadMs: number;
  stats: GenerationStats;
  /** Expert reads over the whole child (prefill + generation), from the engine's counters. */
  totals: { bytesRead: number; readSeconds: number; hits: number; misses: number };
}

export interface ExpertBenchRow {
  label: string;
  io: string;
  budget: number | null;
  cachedExperts: number;
  identical: boolean;
  vmHwm: number;
  overBudget: number | null;
  hitRate: number | null; // prefill + generation
  decodeHitRate: number | null; // generation only (its one-token prefill + decode steps)
  bytesRead: number;
  readGBps: number | null;
  diskFraction: number | null;
  stallMs: number | null;
  prefetchPrecision: number | null;
  decodeTokPerS: number;
}

/** GB/s reading every shard whole, cold (each dropped from the page cache first). */
function sequentialRead(files: string[]): number {
  let bytes = 0;
  let seconds = 0;
  for (const f of files) {
    const size = statSync(f).size;
    const gbps = loadAddon().measureSequentialRead(f, SEQ_READ_BYTES, 4);
    const n = Math.min(size, SEQ_READ_BYTES);
    bytes += n;
    seconds += n / (gbps * 1e9);
  }
  return bytes / seconds / 1e9;
}

function prompt(vocab: number): number[] {
  return Array.from({ length: PROMPT }, (_, i) => (i * 7919 + 17) % vocab);
}

function vmHwm(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

async function child(a: ChildArgs): Promise<ChildResult> {
  const t0 = performance.now();
  const engine = await openEngine(a.dir, { threads: THREADS, contextSize: CONTEXT, memoryBudget: a.budget, expertIo: a.io });
  const loadMs = performance.now() - t0;
  try {
    const s = engine.createSession();
    const ids0 = prompt(engine.info.vocabSize);
    const logits = await s.logits(ids0);
    const h = createHash("sha256");
    for (const row of logits) h.update(Buffer.from(row.buffer, row.byteOffset, row.byteLength));
    const ids: number[] = [];
    let stats: GenerationStats | undefined;
    for await (const ev of s.generate(ids0, { temperature: 0, maxTokens: GEN, stopIds: [] })) {
      if (ev.type === "token") ids.push(ev.id);
      else stats = ev.stats;
    }
    const t = engine.expertStats();
    s.dispose();
    return {
      ids,
      logitsSha: h.digest("hex"),
      vmHwm: vmHwm(),
      streaming: engine.memoryPlan.streaming,
      directIo: engine.details.expertCache?.directIo ?? null,
      cachedExperts: engine.memoryPlan.cachedExperts,
      loadMs,
      stats: stats!,
      totals: { bytesRead: t.bytesRead, readSeconds: t.readSeconds, hits: t.hits, misses: t.misses },
    };
  } finally {
    engine.dispose();
  }
}

function runChild(a: ChildArgs, files: string[]): ChildResult {
  const addon = loadAddon();
  for (const f of files) addon.dropFileCache(f); // cold: nothing of the checkpoint in the page cache
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), "--child", JSON.stringify(a)], {
    encoding: "utf8",
    maxBuffer: 1 << 26,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return JSON.parse(out.trim().split("\n").pop()!) as ChildResult;
}

const gb = (n: number) => (n / 1e9).toFixed(2);
const mb = (n: number) => (n / 1e6).toFixed(0);

export async function run(): Promise<{ seqReadGBps: number; rows: ExpertBenchRow[] }> {
  const dir = await ensureBenchCheckpoint();
  const { plan, info } = await loadCheckpointPlan(dir);
  const files = plan.files;
  const before = sequentialRead(files);
  let seqReadGBps = before;
  const fixed = info.bytes.dense + CONTEXT * info.kvBytesPerToken + RUNTIME_RESERVE_BYTES;
  console.log(`experts: ${dir}`);
  console.log(
    `  ${info.routedExperts} experts x ${info.layers - info.denseLayers} MoE layers = ${gb(info.bytes.experts)} GB of experts (${(info.bytes.perExpert / 1e6).toFixed(2)} MB each, slot ${(expertSlotBytes(plan) / 1e6).toFixed(2)} MB) · dense ${mb(info.bytes.dense)} MB · ` +
      `budget = dense + KV + reserve ${mb(fixed)} MB + share of expert bytes`,
  );
  console.log(`  disk sequential read before the runs (every shard, 8 MiB direct reads, 4 threads): ${before.toFixed(2)} GB/s`);
  console.log(`  ${THREADS} threads · exact · prompt ${PROMPT} tokens then ${GEN} greedy tokens · every run cold (shards dropped from the page cache)`);

  const ref = runChild({ dir, io: "pread", budget: 1e15 }, files);
  const rows: ExpertBenchRow[] = [];
  const report = (label: string, io: string, budget: number | null, r: ChildResult) => {
    const x = r.stats.experts;
    const identical = r.logitsSha === ref.logitsSha && r.ids.join() === ref.ids.join();
    const readGBps = r.totals.readSeconds > 0 ? r.totals.bytesRead / r.totals.readSeconds / 1e9 : null;
    const row: ExpertBenchRow = {
      label,
      io,
      budget,
      cachedExperts: r.cachedExperts,
      identical,
      vmHwm: r.vmHwm,
      overBudget: budget === null ? null : r.vmHwm - budget,
      hitRate: r.totals.hits + r.totals.misses > 0 && r.streaming ? r.totals.hits / (r.totals.hits + r.totals.misses) : null,
      decodeHitRate: x ? x.hitRate : null,
      bytesRead: r.totals.bytesRead,
      readGBps,
      diskFraction: readGBps === null ? null : readGBps / seqReadGBps,
      stallMs: x ? x.stallMs : null,
      prefetchPrecision: x ? x.prefetchPrecision : null,
      decodeTokPerS: r.stats.decodeTokPerS,
    };
    rows.push(row);
    const pct = (v: number | null) => (v === null ? "   -" : `${(100 * v).toFixed(0).padStart(3)}%`);
    console.log(
      `  ${label.padEnd(14)} ${(io === "pread" && r.directIo === false ? "pread (buffered)" : io).padEnd(5)} ${r.streaming ? `${String(r.cachedExperts).padStart(4)} cached` : " all mapped"} · ${identical ? "bit-identical" : "DIFFERS"} · ` +
        `VmHWM ${mb(r.vmHwm)} MB${budget === null ? "" : ` (budget ${mb(budget)} MB, ${r.vmHwm <= budget ? "under" : "over"} by ${mb(Math.abs(r.vmHwm - budget))} MB)`} · ` +
        `hit ${pct(row.hitRate)} (decode ${pct(row.decodeHitRate)}) · read ${mb(r.totals.bytesRead)} MB${readGBps === null ? "" : ` at ${readGBps.toFixed(2)} GB/s `} · ` +
        `stall ${x ? (x.stallMs / 1000).toFixed(2) + " s" : "-"} · prefetch ${pct(row.prefetchPrecision)} · decode ${r.stats.decodeTokPerS.toFixed(2)} tok/s`,
    );
  };
  report("unbudgeted", "-", null, ref);
  for (const f of FRACTIONS) {
    const budget = Math.floor(fixed + f * info.bytes.experts);
    report(`${f * 100}% experts`, "pread", budget, runChild({ dir, io: "pread", budget }, files));
  }
  for (const f of [0.25]) {
    const budget = Math.floor(fixed + f * info.bytes.experts);
    report(`${f * 100}% experts`, "mmap", budget, runChild({ dir, io: "mmap", budget }, files));
  }
  const after = sequentialRead(files);
  seqReadGBps = Math.max(before, after);
  for (const r of rows) r.diskFraction = r.readGBps === null ? null : r.readGBps / seqReadGBps;
  console.log(`  disk sequential read after the runs: ${after.toFixed(2)} GB/s ; read throughput as a fraction of the faster of the two (${seqReadGBps.toFixed(2)} GB/s): ${rows
    .filter((r) => r.diskFraction !== null)
    .map((r) => `${r.label} ${r.io} ${(100 * r.diskFraction!).toFixed(0)}%`)
    .join(" · ")}`);
  return { seqReadGBps, rows };
}

if (process.argv[2] === "--child") {
  process.stdout.write(JSON.stringify(await child(JSON.parse(process.argv[3]!) as ChildArgs)) + "\n");
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await run();
}
