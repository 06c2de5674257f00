// Budget accounting: how --memory-budget splits into dense + KV + expert slots, when the mapped
// provider is kept, the errors for budgets that cannot work, and the flag's accepted forms.
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCheckpointPlan, type CheckpointPlan } from "../../src/engine/checkpoint/load_checkpoint_plan.js";
import { expertSlotBytes, formatMemoryPlan, planMemory, RUNTIME_RESERVE_BYTES } from "../../src/engine/memory_plan.js";
import { parseMemoryBudget } from "../../src/cli/engine/memory_budget_flag.js";
import { ConfigError, UsageError } from "../../src/errors.js";

const DIR = fileURLToPath(new URL("../../../shared/fixtures/kimi-k2-tiny", import.meta.url));

describe("memory plan", () => {
  let cp: CheckpointPlan;
  beforeAll(async () => {
    cp = await loadCheckpointPlan(DIR);
  });
  const input = (budgetBytes: number | undefined, contextTokens = 256) => ({
    plan: cp.plan,
    denseBytes: cp.info.bytes.dense,
    expertBytes: cp.info.bytes.experts,
    kvBytesPerToken: cp.info.kvBytesPerToken,
    contextTokens,
    budgetBytes,
    budgetSource: budgetBytes === undefined ? undefined : "--memory-budget",
  });

  it("sizes a slot as the six expert tensors in 4 KiB-aligned regions with a spare page each", () => {
    // tiny: dim 256, inter 128 -> gate/up packed 16384 B, scales 2048 B; down packed 16384 B, scales 2048 B
    expect(expertSlotBytes(cp.plan)).toBe(3 * (16384 + 4096 + (4096 + 4096)));
  });

  it("keeps every expert mapped when the budget holds them all", () => {
    const p = planMemory(input(64 * 2 ** 30));
    expect(p.streaming).toBe(false);
    expect(p.expertCacheBytes).toBe(0);
    expect(p.cachedExperts).toBe(32);
    expect(formatMemoryPlan(p)).toMatch(/^dense 3\.5 MB resident · KV 0\.2 MB at 256 · experts 1\.8 MB = all 32 resident \(mapped\)/);
  });

  it("gives the expert cache what dense, KV and the reserve leave, in whole slots", () => {
    const slot = expertSlotBytes(cp.plan);
    const fixed = cp.info.bytes.dense + 256 * cp.info.kvBytesPerToken + RUNTIME_RESERVE_BYTES;
    const p = planMemory(input(fixed + 7 * slot + slot / 2));
    expect(p.streaming).toBe(true);
    expect(p.cachedExperts).toBe(7);
    expect(p.expertCacheBytes).toBe(7 * slot);
    expect(p.denseBytes + p.kvBytes + p.reserveBytes + p.expertCacheBytes).toBeLessThanOrEqual(p.budgetBytes);
    expect(formatMemoryPlan(p)).toMatch(/· expert cache 0\.6 MB = 7 of 32 experts \(22%\) · budget/);
  });

  it("the KV cache grows with the configured context", () => {
    const a = planMemory(input(64 * 2 ** 30, 1024));
    const b = planMemory(input(64 * 2 ** 30, 4096));
    expect(b.kvBytes).toBe(4 * a.kvBytes);
    expect(formatMemoryPlan(b)).toContain("at 4K");
  });

  it("a budget below dense + KV + reserve is a ConfigError naming the flag and the numbers", () => {
    let err: unknown;
    try {
      planMemory(input(100e6));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^--memory-budget: 95\.4 MiB .* dense weights \(3\.5 MB\) \+ KV cache at 256 tokens \(0\.2 MB\) \+ runtime reserve \(268\.4 MB\) = 272\.\d MB/);
  });

  it("a budget with room for fewer experts than one token uses is a ConfigError with the minimum", () => {
    const slot = expertSlotBytes(cp.plan);
    const fixed = cp.info.bytes.dense + 256 * cp.info.kvBytesPerToken + RUNTIME_RESERVE_BYTES;
    expect(() => planMemory(input(fixed + 3 * slot))).toThrow(/one token needs 4 experts .* raise the budget to at least/);
    expect(planMemory(input(fixed + 4 * slot)).cachedExperts).toBe(4);
  });

  it("the default budget is 75% of physical memory", () => {
    const p = planMemory({ ...input(undefined), physicalBytes: 8e9 });
    expect(p.budgetBytes).toBe(6e9);
    expect(p.budgetSource).toBe("default: 75% of 7.5 GiB RAM"); // binary units, as --memory-budget takes them
  });

  it("prints budgets in the binary units --memory-budget takes, and a minimum that can be typed back", () => {
    const p = planMemory({ ...input(64 * 2 ** 30), budgetSource: "--memory-budget" });
    expect(formatMemoryPlan(p)).toMatch(/· budget 64\.0 GiB \(--memory-budget\)$/);
    let message = "";
    try {
      planMemory(input(1000));
    } catch (e) {
      message = (e as Error).message;
    }
    const need = /raise the budget to at least ([\d.]+) (MiB|GiB)/.exec(message);
    expect(need, message).not.toBeNull();
    const typed = parseMemoryBudget("--memory-budget", `${need![1]}${need![2] === "GiB" ? "G" : "M"}`)!;
    expect(() => planMemory(input(typed))).not.toThrow();
  });
});

describe("--memory-budget", () => {
  it("takes bytes, binary sizes and percentages of RAM", () => {
    expect(parseMemoryBudget("--memory-budget", "123456789")).toBe(123456789);
    expect(parseMemoryBudget("--memory-budget", "64G")).toBe(64 * 2 ** 30);
    expect(parseMemoryBudget("--memory-budget", "512m")).toBe(512 * 2 ** 20);
    expect(parseMemoryBudget("--memory-budget", "1.5T")).toBe(1.5 * 2 ** 40);
    expect(parseMemoryBudget("--memory-budget", "64GiB")).toBe(64 * 2 ** 30);
    expect(parseMemoryBudget("--memory-budget", "40%", 10e9)).toBe(4e9);
    expect(parseMemoryBudget("--memory-budget", undefined)).toBeUndefined();
  });

  it("rejects anything else with a UsageError naming the flag", () => {
    for (const bad of ["", "lots", "-5G", "0", "150%", "0%", "12X"]) {
      expect(() => parseMemoryBudget("--memory-budget", bad)).toThrow(UsageError);
      expect(() => parseMemoryBudget("--memory-budget", bad)).toThrow(/^--memory-budget: /);
    }
  });
});
