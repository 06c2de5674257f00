// Unquantized checkpoints: no quantization_config in config.json, routed experts stored as plain
// BF16 `model.layers.L.mlp.experts.E.{gate,up,down}_proj.weight` (docs/k2-format.md: "at minimum
// the INT4 and BF16 variants"). A synthetic one runs through `k2 logits` on every backend against
// the independent float64 reference, prefill agrees with decode, `k2 info` names the format, and a
// budget that would need the (INT4-only) expert cache fails with a clear message.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeSyntheticCheckpoint, type SyntheticCheckpointSpec } from "../../src/engine/checkpoint/synthetic_checkpoint.js";
import { loadCheckpointPlan } from "../../src/engine/checkpoint/load_checkpoint_plan.js";
import { loadAddon } from "../../src/engine/native_addon.js";
import { RUNTIME_RESERVE_BYTES } from "../../src/engine/memory_plan.js";
import { compareWithReference, referenceLogits } from "./reference_forward.js";
import { nodeCommand } from "../helpers/node_command.js";

const BIN = "dist/src/cli/main.js";
const TINY = "../shared/fixtures/kimi-k2-tiny";

// Grouped routing and two shared experts too, so BF16 experts meet every MoE path.
const SPEC: SyntheticCheckpointSpec = {
  hidden_size: 128, num_hidden_layers: 3, num_attention_heads: 2, q_lora_rank: 64, kv_lora_rank: 32,
  qk_nope_head_dim: 16, qk_rope_head_dim: 8, v_head_dim: 16, intermediate_size: 192, moe_intermediate_size: 64,
  n_routed_experts: 16, num_experts_per_tok: 3, n_group: 4, topk_group: 2, n_shared_experts: 2,
  vocab_size: 1536, tokenizerDir: TINY, seed: 11, expertFormat: "bf16",
};
const PROMPT = [7, 300, 45, 1200, 9, 88, 1024, 3, 640, 2, 511, 77];

function k2(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(...nodeCommand(BIN, args), { encoding: "utf8", maxBuffer: 1 << 26, env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let root = "";
let dir = "";
beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build:ts\` first`);
  root = mkdtempSync(join(tmpdir(), "k2-bf16-experts-"));
  dir = await writeSyntheticCheckpoint(join(root, "bf16"), SPEC);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("a checkpoint with BF16 routed experts", () => {
  it("is written without quantization_config and with BF16 .weight experts", async () => {
    const cfg = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
    expect(cfg.quantization_config).toBeUndefined();
    const { plan } = await loadCheckpointPlan(dir);
    expect(plan.tensors["model.layers.1.mlp.experts.5.down_proj.weight"]).toMatchObject({ dtype: "BF16", shape: [128, 64] });
    expect(plan.tensors["model.layers.1.mlp.experts.5.down_proj.weight_packed"]).toBeUndefined();
  });

  it.each(["cpu", "metal-emu"])("k2 logits (%s backend) matches the float64 reference within 2e-3 with identical argmax", async (backend) => {
    const r = k2(["logits", "-m", dir, "--ids", PROMPT.join(",")], { K2_BACKEND: backend });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout).logits as number[][];
    expect(rows).toHaveLength(PROMPT.length);
    const { maxDiff, spread, argmax, refArgmax } = compareWithReference(rows, await referenceLogits(dir, PROMPT));
    expect(argmax).toEqual(refArgmax);
    expect(spread).toBeGreaterThan(0.5); // a live model, not all-zero logits
    expect(maxDiff).toBeLessThan(2e-3);
  });

  it("prefill logits equal token-by-token decode through the KV cache (1e-4)", async () => {
    const { plan } = await loadCheckpointPlan(dir);
    const engine = new (loadAddon().NativeEngine)(plan);
    const prefill = engine.createSession(64);
    const decode = engine.createSession(64);
    try {
      const all = (await prefill.prefill(Int32Array.from(PROMPT), "all"))!;
      const V = SPEC.vocab_size!;
      expect(all).toHaveLength(PROMPT.length * V);
      let maxDiff = 0;
      for (let t = 0; t < PROMPT.length; t++) {
        const row = (await decode.prefill(Int32Array.of(PROMPT[t]!), "last"))!;
        for (let v = 0; v < V; v++) maxDiff = Math.max(maxDiff, Math.abs(row[v]! - all[t * V + v]!));
      }
      expect(maxDiff).toBeLessThan(1e-4);
    } finally {
      prefill.dispose();
      decode.dispose();
      engine.dispose();
    }
  });

  it("k2 info names the BF16 expert format and counts two bytes per expert parameter", () => {
    const r = k2(["info", "-m", dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/MoE: 16 routed experts \(BF16\) \+ 2 shared, 3 per token/);
    const j = JSON.parse(k2(["info", "-m", dir, "--json"]).stdout);
    expect(j.expertFormat).toBe("bf16");
    expect(j.bytes.perExpert).toBe(3 * 64 * 128 * 2);
    expect(JSON.parse(k2(["info", "-m", TINY, "--json"]).stdout).expertFormat).toBe("int4");
  });

  it("a --memory-budget that would stream experts is refused, naming --memory-budget and BF16 experts", async () => {
    const { info } = await loadCheckpointPlan(dir);
    const ids = PROMPT.slice(0, 3);
    const budget = info.bytes.dense + ids.length * info.kvBytesPerToken + RUNTIME_RESERVE_BYTES + Math.floor(info.bytes.experts / 2);
    const r = k2(["logits", "-m", dir, "--ids", ids.join(","), "--memory-budget", String(budget)]);
    expect(r.code).toBe(2); // a configuration error, like every other budget that cannot work
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^k2: --memory-budget: .*BF16 experts .*raise the budget/);
    // With room for every expert the same budget flag runs.
    const ok = k2(["logits", "-m", dir, "--ids", ids.join(","), "--memory-budget", String(budget + info.bytes.experts)]);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
  });
});
