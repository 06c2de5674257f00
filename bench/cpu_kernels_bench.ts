// Single-thread rates of the CPU backend's matmul kernels (the ones decode and prefill spend their
// time in), measured by the addon in the thread's own CPU time, best of K2_BENCH_REPS (default 5):
// on this machine, shared with other jobs, wall-clock rates move by ±30% from run to run while
// thread CPU time moves by a few percent. Cold kernels stream 46-64 MB of weights and are shown
// as GB/s and as a fraction of a streaming read of the same buffer on the same thread; L2-resident
// ones show the compute ceiling; GEMM and small-group kernels show GMAC/s.
// Run: `npm run bench -- kernels`, or `node dist/bench/cpu_kernels_bench.js`.
import { pathToFileURL } from "node:url";
import { loadAddon } from "../src/engine/native_addon.js";

export interface KernelBenchRow {
  name: string;
  GBps: number | null;
  GMACps: number;
  ofStreamRead: number | null;
}

export async function run(): Promise<{ isa: string; rows: KernelBenchRow[] }> {
  const reps = Number(process.env.K2_BENCH_REPS ?? 5);
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`K2_BENCH_REPS must be a whole number >= 1 (got ${process.env.K2_BENCH_REPS})`);
  const addon = loadAddon();
  const rates = addon.benchCpuKernels(reps);
  const rows: KernelBenchRow[] = [];
  let stream: number | null = null;
  console.log(`cpu kernels (${addon.cpuIsa}, 1 thread, thread CPU time, best of ${reps}):`);
  for (const r of rates) {
    const GBps = r.bytes > 0 ? r.bytes / r.seconds / 1e9 : null;
    const GMACps = r.macs / r.seconds / 1e9;
    if (r.name.startsWith("stream read")) stream = GBps;
    const ofStreamRead = r.cold && GBps !== null && stream !== null && r.macs > 0 ? GBps / stream : null;
    rows.push({ name: r.name, GBps, GMACps, ofStreamRead });
    const parts = [r.name.padEnd(32)];
    if (GBps !== null) parts.push(`${GBps.toFixed(2).padStart(6)} GB/s`);
    if (r.macs > 0) parts.push(`${GMACps.toFixed(1).padStart(5)} GMAC/s`);
    if (ofStreamRead !== null) parts.push(`= ${(100 * ofStreamRead).toFixed(0)}% of the streaming read`);
    console.log(`  ${parts.join("  ")}`);
  }
  return { isa: addon.cpuIsa, rows };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await run();
