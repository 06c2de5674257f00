// "Config values are read, never assumed": synthetic checkpoints that differ from K2 Thinking in
// the values its golden data cannot catch (rope factor and betas, eps, grouped routing, no
// top-k normalisation, no q_lora, several dense layers, greedy routing without bias, no shared
// expert) run through `k2 logits` and must match an independent float64 forward pass.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeSyntheticCheckpoint, type SyntheticCheckpointSpec } from "../../src/engine/checkpoint/synthetic_checkpoint.js";
import { compareWithReference, referenceLogits } from "./reference_forward.js";
import { nodeCommand } from "../helpers/node_command.js";

const BIN = "dist/src/cli/main.js";
const TINY = "../shared/fixtures/kimi-k2-tiny";

const SMALL: SyntheticCheckpointSpec = {
  hidden_size: 128, num_hidden_layers: 3, num_attention_heads: 2, q_lora_rank: 64, kv_lora_rank: 32,
  qk_nope_head_dim: 16, qk_rope_head_dim: 8, v_head_dim: 16, intermediate_size: 192, moe_intermediate_size: 64,
  n_routed_experts: 8, num_experts_per_tok: 2, vocab_size: 1536, tokenizerDir: TINY, seed: 5,
};

const VARIANTS: { name: string; spec: SyntheticCheckpointSpec; config?: (j: Record<string, unknown>) => void }[] = [
  {
    // K2 Instruct's rope factor and eps; DeepSeek-V3's beta_fast puts the YaRN ramp inside the rotary dims.
    name: "K2 Instruct-style: rope factor 32, beta_fast 32, eps 1e-6, theta 10000",
    spec: { rms_norm_eps: 1e-6, rope_theta: 10000, rope_scaling: { factor: 32, original_max_position_embeddings: 64, beta_fast: 32, beta_slow: 1, mscale: 1, mscale_all_dim: 1 } },
  },
  {
    // eps 1e-6 vs 1e-5 moves these logits by only ~2e-4; a large eps makes a hard-coded one visible.
    name: "grouped routing (n_group 4, topk_group 2), no top-k normalisation, scaling 1.7, two shared experts, eps 0.05",
    spec: { n_routed_experts: 16, num_experts_per_tok: 3, n_group: 4, topk_group: 2, norm_topk_prob: false, routed_scaling_factor: 1.7, n_shared_experts: 2, rms_norm_eps: 0.05 },
  },
  {
    name: "no q_lora (q_proj), two dense layers, MoE every 2nd layer, no rope scaling",
    spec: { q_lora_rank: 0, num_hidden_layers: 5, first_k_dense_replace: 2, moe_layer_freq: 2, rope_scaling: null },
  },
  {
    name: "greedy routing without correction bias",
    spec: { num_experts_per_tok: 3 },
    config: (j) => (j.topk_method = "greedy"),
  },
];

const PROMPT = [7, 300, 45, 1200, 9, 88, 1024, 3, 640, 2, 511, 77];

let root = "";
beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build:ts\` first`);
  root = mkdtempSync(join(tmpdir(), "k2-config-variants-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("the float64 reference itself", () => {
  it("reproduces the golden prompt logits of the tiny fixture (DeepSeek's own float64 run)", async () => {
    const golden = JSON.parse(readFileSync(join(TINY, "golden.json"), "utf8")) as { prompt_ids: number[]; prompt_logits: number[][] };
    const ref = await referenceLogits(TINY, golden.prompt_ids);
    let maxDiff = 0;
    golden.prompt_logits.forEach((row, t) => row.forEach((v, k) => (maxDiff = Math.max(maxDiff, Math.abs(v - ref[t]![k]!)))));
    expect(maxDiff).toBeLessThan(1e-5);
  });
});

describe("k2 logits matches a float64 reference on configs other than K2 Thinking's", () => {
  it.each(VARIANTS.map((v, i) => [v.name, v, i] as const))("%s", async (_name, v, i) => {
    const dir = await writeSyntheticCheckpoint(join(root, `variant-${i}`), { ...SMALL, ...v.spec });
    if (v.config) {
      const path = join(dir, "config.json");
      const j = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
      v.config(j);
      writeFileSync(path, JSON.stringify(j, null, 2));
    }
    const r = spawnSync(...nodeCommand(BIN, ["logits", "-m", dir, "--ids", PROMPT.join(",")]), { encoding: "utf8", maxBuffer: 1 << 26 });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const rows = JSON.parse(r.stdout).logits as number[][];
    const { maxDiff, spread, argmax, refArgmax } = compareWithReference(rows, await referenceLogits(dir, PROMPT));
    expect(argmax).toEqual(refArgmax);
    expect(spread).toBeGreaterThan(0.5); // a live model, not all-zero logits
    expect(maxDiff).toBeLessThan(2e-3);
  });
});
