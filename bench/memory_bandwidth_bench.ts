// This machine's memory bandwidth as the native addon measures it (multithreaded SIMD streaming
// read of a 1 GiB buffer, best of several passes): the roofline decode speed is bounded by.
// Run: `npm run bench -- memory`, or `node dist/bench/memory_bandwidth_bench.js`.
import { availableParallelism } from "node:os";
import { pathToFileURL } from "node:url";
import { loadAddon } from "../src/engine/native_addon.js";

export interface MemoryBandwidthResult {
  bytes: number;
  byThreads: { threads: number; GBps: number }[];
}

export async function run(): Promise<MemoryBandwidthResult> {
  const addon = loadAddon();
  const bytes = 1 << 30;
  const byThreads: MemoryBandwidthResult["byThreads"] = [];
  const counts = [...new Set([1, 2, availableParallelism()])].sort((a, b) => a - b);
  for (const threads of counts) byThreads.push({ threads, GBps: addon.measureMemoryBandwidth(bytes, threads) });
  const one = byThreads[0]!.GBps;
  // The addon streams with 256-bit AVX2 loads on any CPU that has them, whatever tier K2_CPU_ISA picks.
  console.log(`memory bandwidth (streaming read, 1 GiB, ${addon.cpuIsas.includes("avx2") ? "avx2" : "scalar"} loads):`);
  for (const r of byThreads) console.log(`  ${r.threads} thread(s): ${r.GBps.toFixed(2)} GB/s (x${(r.GBps / one).toFixed(2)} of 1 thread)`);
  return { bytes, byThreads };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await run();
