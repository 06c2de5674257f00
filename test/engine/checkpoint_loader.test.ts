// The checkpoint loader on good checkpoints (the tiny fixture, synthetic ones of other shapes) and
// on every corruption of checkpoint_corruptions.ts: each must fail with a CheckpointError whose
// message names the file and the tensor or field.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { loadCheckpointPlan } from "../../src/engine/checkpoint/load_checkpoint_plan.js";
import { writeSyntheticCheckpoint } from "../../src/engine/checkpoint/synthetic_checkpoint.js";
import { resolvePlanOptions } from "../../src/engine/checkpoint/load_options.js";
import { CheckpointError, ConfigError } from "../../src/errors.js";
import { CORRUPTIONS, TINY, copyCheckpoint, makeBaseCheckpoint } from "./checkpoint_corruptions.js";

let root = "";
let base = "";
beforeAll(async () => {
  ({ root, base } = await makeBaseCheckpoint());
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("loadCheckpointPlan on good checkpoints", () => {
  it("plans the tiny fixture: every tensor, sizes matching the index's total_size", async () => {
    const { plan, info, generation } = await loadCheckpointPlan(TINY, { threads: 2 });
    expect(plan.files).toHaveLength(2);
    expect(plan.config.hidden_size).toBe(256);
    expect(plan.config.rope_scaling?.factor).toBe(64);
    // embed, final norm, lm_head + 3 layers x (2 norms + 7 attention) + 3 dense mlp + 2 MoE layers x (router, bias, 16 x 9 expert, 3 shared)
    expect(Object.keys(plan.tensors)).toHaveLength(3 + 3 * 9 + 3 + 2 * (2 + 16 * 9 + 3));
    const packed = plan.tensors["model.layers.1.mlp.experts.3.gate_proj.weight_packed"]!;
    expect(packed).toMatchObject({ dtype: "I32", shape: [128, 32], nbytes: 128 * 32 * 4 });
    expect(plan.tensors["model.layers.2.mlp.gate.e_score_correction_bias"]).toMatchObject({ dtype: "F32", shape: [16] });
    expect(info.bytes.total).toBe(5305856); // the index's metadata.total_size
    expect(info.denseLayers).toBe(1);
    expect(info.bytes.perExpert).toBe(3 * (128 * 32 * 4 + 128 * 8 * 2 + 8)); // three projections' packed + scales + shapes
    expect(info.kvBytesPerToken).toBe(3 * (64 + 16) * 4);
    expect(info.params.activePerToken).toBe(info.params.dense + 2 * 4 * 3 * 128 * 256);
    expect(info.eosId).toBe(1282);
    expect(generation).toEqual({ temperature: 1, stopIds: [1282] });
  });

  it("reads a single model.safetensors without an index, q_proj without q_lora, grouped routing", async () => {
    const dir = await writeSyntheticCheckpoint(join(root, "single"), {
      shards: 0, q_lora_rank: 0, num_attention_heads: 2, n_routed_experts: 12, num_experts_per_tok: 3, n_group: 4, topk_group: 2,
    });
    const { plan } = await loadCheckpointPlan(dir);
    expect(plan.files).toEqual([join(dir, "model.safetensors")]);
    expect(plan.config).toMatchObject({ q_lora_rank: 0, n_group: 4, topk_group: 2, num_experts_per_tok: 3 });
    expect(plan.tensors["model.layers.0.self_attn.q_proj.weight"]!.shape).toEqual([2 * 48, 256]);
    expect(plan.tensors["model.layers.0.self_attn.q_a_proj.weight"]).toBeUndefined();
    expect(plan.tensors["model.layers.2.mlp.experts.11.down_proj.weight_scale"]!.shape).toEqual([256, 4]);
  });

  it("plans a checkpoint of the real K2 Thinking layout (62 sparse shards, headers only): 594 GB, 1.03 T params, 32.9 B active", async () => {
    const dir = await writeSyntheticCheckpoint(join(root, "k2-scale"), {
      hidden_size: 7168, num_hidden_layers: 61, first_k_dense_replace: 1, num_attention_heads: 64, q_lora_rank: 1536, kv_lora_rank: 512,
      qk_nope_head_dim: 128, qk_rope_head_dim: 64, v_head_dim: 128, intermediate_size: 18432, moe_intermediate_size: 2048,
      n_routed_experts: 384, num_experts_per_tok: 8, n_shared_experts: 1, vocab_size: 163840, bosId: 163584, eosId: 163586,
      shards: 62, sparse: true,
    });
    try {
      const { plan, info } = await loadCheckpointPlan(dir);
      expect(plan.files).toHaveLength(62);
      expect(Object.keys(plan.tensors)).toHaveLength(3 + 61 * 9 + 3 + 60 * (2 + 384 * 9 + 3));
      // docs/k2-format.md: one expert ~24.8 MB, 60 x 384 experts ~571 GB, the rest ~23 GB, ~594 GB in all.
      expect(info.bytes.perExpert).toBe(3 * (2048 * 7168 * 0.5 + 2048 * 224 * 2 + 8));
      expect(info.bytes.experts / 1e9).toBeCloseTo(570.76, 1);
      expect(info.bytes.dense / 1e9).toBeCloseTo(23.44, 1);
      expect(info.bytes.total / 1e9).toBeCloseTo(594.2, 0);
      expect(info.params.total / 1e12).toBeCloseTo(1.026, 2); // "1T total"
      expect(info.params.activePerToken / 1e9).toBeCloseTo(32.9, 0); // "32B activated"
      expect(info.kvBytesPerToken).toBe(61 * 576 * 4);
      const last = plan.tensors["model.layers.60.mlp.experts.383.down_proj.weight_packed"]!;
      expect(last).toMatchObject({ shape: [7168, 256], nbytes: 7168 * 256 * 4 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("takes run settings from flags over K2_CPU_MODE / K2_BACKEND, and rejects bad env values naming the variable", () => {
    expect(resolvePlanOptions({}, { K2_CPU_MODE: "fast", K2_BACKEND: "metal-emu" })).toMatchObject({ cpuMode: "fast", backend: "metal-emu" });
    expect(resolvePlanOptions({ cpuMode: "exact", backend: "cpu" }, { K2_CPU_MODE: "fast", K2_BACKEND: "metal-emu" })).toMatchObject({ cpuMode: "exact", backend: "cpu" });
    // A caller's preferred default (the app and server prefer fast) yields to the env and to flags.
    expect(resolvePlanOptions({}, {}).cpuMode).toBe("exact");
    expect(resolvePlanOptions({ defaultCpuMode: "fast" }, {}).cpuMode).toBe("fast");
    expect(resolvePlanOptions({ defaultCpuMode: "fast" }, { K2_CPU_MODE: "exact" }).cpuMode).toBe("exact");
    expect(resolvePlanOptions({ defaultCpuMode: "fast", cpuMode: "exact" }, {}).cpuMode).toBe("exact");
    expect(resolvePlanOptions({ defaultCpuMode: "fast" }, {})).not.toHaveProperty("defaultCpuMode");
    expect(() => resolvePlanOptions({}, { K2_CPU_MODE: "turbo" })).toThrow(ConfigError);
    expect(() => resolvePlanOptions({}, { K2_CPU_MODE: "turbo" })).toThrow(/K2_CPU_MODE/);
    expect(() => resolvePlanOptions({}, { K2_BACKEND: "cuda" })).toThrow(/K2_BACKEND/);
  });

  it("rejects a directory that does not exist, naming it", async () => {
    await expect(loadCheckpointPlan(join(root, "nope"))).rejects.toThrow(/nope: checkpoint directory does not exist/);
  });
});

describe("loadCheckpointPlan on corrupted copies", () => {
  it.each(CORRUPTIONS.map((c) => [c.name, c] as const))("%s", async (name, c) => {
    const dir = copyCheckpoint(base, root, name);
    c.apply(dir);
    const err = await loadCheckpointPlan(dir).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CheckpointError);
    const msg = (err as Error).message;
    for (const p of c.expect) expect(msg).toMatch(typeof p === "string" ? new RegExp(p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : p);
    // The error names a path inside the checkpoint directory.
    expect((err as CheckpointError).path.startsWith(dir)).toBe(true);
  });
});
