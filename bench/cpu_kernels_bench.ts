// Single-thread rates of the CPU backend's matmul kernels (the ones decode and prefill spend their
// time in), measured by the addon in the thread's own CPU time, best of K2_BENCH_REPS (default 5):
// on this machine, shared with other jobs, wall-clock rates move by ±30% from run to run while
// thread CPU time moves by a few percent. Cold kernels stream 46-64 MB of weights and are shown
// as GB/s and as a fraction of a streaming read of the same buffer on the same thread; L2-resident
// ones show the compute ceiling; GEMM and small-group kernels show GMAC/s.
// Every SIMD tier this CPU runs is measured (avx2, and avx512 where the CPU has AVX-512 VNNI), and
// each tier after the first is shown as a ratio to the first, measured in the same process.
// Run: `npm run bench -- kernels`, or `node dist/bench/cpu_kernels_bench.js`.
import { pathToFileURL } from "node:url";
import { loadAddon } from "../src/engine/native_addon.js";

export interface KernelBenchRow {
  name: string;
  GBps: number | null;
  GMACps: number;
  ofStreamRead: number | null;
  /** GMAC/s (or GB/s for stream reads) against the same row of the first tier measured. */
  ofBaseTier: number | null;
}

export async function run(): Promise<{ isa: string; tiers: Record<string, KernelBenchRow[]> }> {
  const reps = Number(process.env.K2_BENCH_REPS ?? 5);
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`K2_BENCH_REPS must be a whole number >= 1 (got ${process.env.K2_BENCH_REPS})`);
  const addon = loadAddon();
  // The scalar tier is the portable reference, far slower than any SIMD tier: measured only when
  // it is all this CPU has.
  const isas = addon.cpuIsas.length > 1 ? addon.cpuIsas.filter((i) => i !== "scalar") : addon.cpuIsas;
  const tiers: Record<string, KernelBenchRow[]> = {};
  let base: KernelBenchRow[] | null = null;
  let baseIsa = "";
  for (const isa of isas) {
    const rates = addon.benchCpuKernels(reps, isa);
    const rows: KernelBenchRow[] = [];
    let stream: number | null = null;
    console.log(`cpu kernels (${isa}${isa === addon.cpuIsa ? ", the engine's default" : ""}, 1 thread, thread CPU time, best of ${reps}):`);
    for (const r of rates) {
      const GBps = r.bytes > 0 ? r.bytes / r.seconds / 1e9 : null;
      const GMACps = r.macs / r.seconds / 1e9;
      if (r.name.startsWith("stream read")) stream = GBps;
      const ofStreamRead = r.cold && GBps !== null && stream !== null && r.macs > 0 ? GBps / stream : null;
      const b = base?.find((x) => x.name === r.name);
      const ofBaseTier = b ? (r.macs > 0 ? GMACps / b.GMACps : GBps !== null && b.GBps ? GBps / b.GBps : null) : null;
      rows.push({ name: r.name, GBps, GMACps, ofStreamRead, ofBaseTier });
      const parts = [r.name.padEnd(32)];
      if (GBps !== null) parts.push(`${GBps.toFixed(2).padStart(6)} GB/s`);
      if (r.macs > 0) parts.push(`${GMACps.toFixed(1).padStart(5)} GMAC/s`);
      if (ofStreamRead !== null) parts.push(`= ${(100 * ofStreamRead).toFixed(0).padStart(3)}% of the streaming read`);
      if (ofBaseTier !== null && r.macs > 0) parts.push(`x${ofBaseTier.toFixed(2)} ${baseIsa}`);
      console.log(`  ${parts.join("  ")}`);
    }
    tiers[isa] = rows;
    if (!base) {
      base = rows;
      baseIsa = isa;
    }
  }
  return { isa: addon.cpuIsa, tiers };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await run();
