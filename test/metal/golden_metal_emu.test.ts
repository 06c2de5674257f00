// The whole K2 forward pass through the Metal dispatch layer on the emulated device: the shared
// golden check (prefill logits vs the float64 reference within 2e-3, every argmax, and greedy
// decoding through the KV cache token for token) with K2_BACKEND=metal-emu must print PASS.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, TINY_MODEL, requireBuiltK2 } from "../e2e/k2_binary.js";

const GOLDEN_CHECK = path.resolve(REPO, "..", "shared", "tools", "golden-check.mjs");

describe("metal-emu golden check", () => {
  it("prefill and decode of kimi-k2-tiny through the Metal kernels PASS", () => {
    requireBuiltK2();
    const out = execFileSync(process.execPath, [GOLDEN_CHECK, TINY_MODEL], {
      cwd: REPO,
      encoding: "utf8",
      env: { ...process.env, K2_BACKEND: "metal-emu" },
      timeout: 600_000,
    });
    expect(out).toMatch(/^PASS prompt logits max\|diff\| \S+ \(limit 0\.002\), argmax 63\/63, greedy 24\/24 identical/m);
  }, 660_000);
});
