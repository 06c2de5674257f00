// The memory budget through the built CLI: the plan in `k2 info`, the plan line and expert
// telemetry of a streaming `k2 generate`, expert stats in `-p --output-format json`, and flag errors.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCheckpointPlan } from "../../src/engine/checkpoint/load_checkpoint_plan.js";
import { expertSlotBytes, RUNTIME_RESERVE_BYTES } from "../../src/engine/memory_plan.js";

const BIN = "dist/src/cli/main.js";
const DIR = fileURLToPath(new URL("../../../shared/fixtures/kimi-k2-tiny", import.meta.url));

function k2(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { maxBuffer: 1 << 26, env: { ...process.env, ...env }, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("--memory-budget on the command line", () => {
  let budget = (context: number, slots: number) => context * slots;
  beforeAll(async () => {
    const { plan, info } = await loadCheckpointPlan(DIR);
    budget = (context, slots) => info.bytes.dense + context * info.kvBytesPerToken + RUNTIME_RESERVE_BYTES + slots * expertSlotBytes(plan);
  });

  it("k2 info prints the plan for a budget, and the error instead of failing when it is too small", () => {
    const r = k2(["info", "-m", DIR, "--context", "1024", "--memory-budget", String(budget(1024, 6))]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\n  plan: dense 3\.5 MB resident · KV 1\.0 MB at 1K · expert cache 0\.5 MB = 6 of 32 experts \(19%\) · budget .* \(--memory-budget\)\n/);
    const small = k2(["info", "-m", DIR, "--memory-budget", "100M", "--json"]);
    expect(small.code).toBe(0);
    expect(JSON.parse(small.stdout).memoryPlan.error).toMatch(/^--memory-budget: 100\.0 MiB/);
  });

  it("k2 generate streams experts within the budget: same ids, the plan and the telemetry on stderr", () => {
    const ids = ["--ids", "5,77,901,13,400,1200,8", "-n", "6", "--temperature", "0"];
    const full = k2(["generate", "-m", DIR, ...ids]);
    expect(full.code).toBe(0);
    expect(full.stderr).not.toMatch(/memory:|experts:/);
    for (const io of ["pread", "mmap"]) {
      const r = k2(["generate", "-m", DIR, ...ids, "--memory-budget", String(budget(13, 5)), "--expert-io", io]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(full.stdout);
      expect(r.stderr).toMatch(/^memory: dense 3\.5 MB resident · KV 0\.0 MB at 13 · expert cache 0\.4 MB = 5 of 32 experts \(16%\)/);
      expect(r.stderr).toMatch(/\nexperts: \d+\.\d% hit \(\d+\/\d+\) · read \d+\.\d MB at \d+\.\d\d GB\/s · stalls \d+ ms · prefetch precision \d+% · resident \d\.\d MB\n/);
    }
  });

  it("-p --output-format json carries the expert telemetry in its stats", () => {
    const r = k2(["-p", "hi", "-m", DIR, "--context", "8192", "--memory-budget", String(budget(8192, 6)), "--max-tokens", "3", "--temperature", "0", "--output-format", "json"]);
    const out = JSON.parse(r.stdout);
    expect(out.stats.experts).toBeDefined();
    const x = out.stats.experts;
    expect(x.hits + x.misses).toBeGreaterThan(0);
    expect(x.hitRate).toBeCloseTo(x.hits / (x.hits + x.misses), 12);
    expect(x.bytesRead).toBeGreaterThan(0);
    expect(out.stats.expertHitRate).toBe(x.hitRate);
  });

  it("bad values are usage errors naming the flag (exit 2)", () => {
    const bad = k2(["generate", "-m", DIR, "--ids", "1", "--memory-budget", "lots"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^k2: --memory-budget: expected bytes, a size like 64G or 512M, or a percentage of RAM like 40%; got "lots"\n$/);
    const small = k2(["generate", "-m", DIR, "--ids", "1", "--memory-budget", "1M"]);
    expect(small.code).toBe(2);
    expect(small.stderr).toMatch(/^k2: --memory-budget: 1\.0 MiB \(--memory-budget\) is less than the dense weights \(3\.5 MB\)/);
    const io = k2(["generate", "-m", DIR, "--ids", "1", "--expert-io", "aio"]);
    expect(io.code).toBe(2);
    expect(io.stderr).toMatch(/^k2: --expert-io: must be one of pread, mmap, got "aio"/);
  });
});
