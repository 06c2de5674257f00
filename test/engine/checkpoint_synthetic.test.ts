// The synthetic checkpoint writer: a valid K2 layout of the requested dimensions, deterministic by
// seed and independent of the shard count, atomic.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeSyntheticCheckpoint } from "../../src/engine/checkpoint/synthetic_checkpoint.js";
import { loadCheckpointPlan } from "../../src/engine/checkpoint/load_checkpoint_plan.js";
import { CheckpointError } from "../../src/errors.js";
import { TINY } from "./checkpoint_corruptions.js";

let root = "";
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "k2-synth-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Bytes of one tensor, read through the plan. */
async function tensorBytes(dir: string, name: string): Promise<Buffer> {
  const { plan } = await loadCheckpointPlan(dir);
  const t = plan.tensors[name]!;
  return readFileSync(plan.files[t.file]!).subarray(t.offset, t.offset + t.nbytes);
}

describe("writeSyntheticCheckpoint", () => {
  const dims = { hidden_size: 128, num_hidden_layers: 2, n_routed_experts: 8, num_experts_per_tok: 2, moe_intermediate_size: 64, intermediate_size: 256, vocab_size: 512 };

  it("writes config, index, shards, generation config and copied tokenizer files that load cleanly", async () => {
    const dir = await writeSyntheticCheckpoint(join(root, "a"), { ...dims, shards: 3, seed: 5, tokenizerDir: TINY });
    expect(readdirSync(dir).sort()).toEqual([
      "chat_template.jinja", "config.json", "generation_config.json",
      "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors",
      "model.safetensors.index.json", "tiktoken.model", "tokenizer_config.json",
    ]);
    const cfg = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    expect(cfg).toMatchObject({ architectures: ["DeepseekV3ForCausalLM"], model_type: "kimi_k2", hidden_size: 128, n_routed_experts: 8 });
    expect(cfg.quantization_config).toMatchObject({ quant_method: "compressed-tensors", format: "pack-quantized" });
    const { info, plan } = await loadCheckpointPlan(dir);
    const index = JSON.parse(readFileSync(join(dir, "model.safetensors.index.json"), "utf8"));
    expect(index.metadata.total_size).toBe(info.bytes.total);
    expect(plan.files).toHaveLength(3);
    // The data section starts 64-byte aligned in every shard.
    for (const f of plan.files) {
      const len = Number(readFileSync(f).readBigUInt64LE(0));
      expect((8 + len) % 64).toBe(0);
    }
  });

  it("stores weight_shape as [out, in] and uses every 4-bit code in weight_packed", async () => {
    const dir = join(root, "a");
    const gate = await tensorBytes(dir, "model.layers.1.mlp.experts.7.gate_proj.weight_shape");
    const down = await tensorBytes(dir, "model.layers.1.mlp.experts.7.down_proj.weight_shape");
    expect([gate.readInt32LE(0), gate.readInt32LE(4)]).toEqual([64, 128]);
    expect([down.readInt32LE(0), down.readInt32LE(4)]).toEqual([128, 64]);
    const packed = await tensorBytes(dir, "model.layers.1.mlp.experts.7.up_proj.weight_packed");
    const seen = new Set<number>();
    for (const b of packed) (seen.add(b & 15), seen.add(b >> 4));
    expect(seen.size).toBe(16);
    const scale = await tensorBytes(dir, "model.layers.1.mlp.experts.7.up_proj.weight_scale");
    const f = new Float32Array(1), u = new Uint32Array(f.buffer);
    u[0] = scale.readUInt16LE(0) << 16;
    expect(f[0]).toBeGreaterThan(0); // positive, finite BF16 scales
    expect(f[0]).toBeLessThan(1);
  });

  it("is deterministic by seed and independent of the shard count", async () => {
    const one = await writeSyntheticCheckpoint(join(root, "b"), { ...dims, shards: 0, seed: 5 });
    const other = await writeSyntheticCheckpoint(join(root, "c"), { ...dims, shards: 1, seed: 6 });
    for (const name of ["model.embed_tokens.weight", "model.layers.1.mlp.experts.3.down_proj.weight_packed", "model.layers.1.mlp.gate.e_score_correction_bias"]) {
      const a = await tensorBytes(join(root, "a"), name);
      expect((await tensorBytes(one, name)).equals(a)).toBe(true);
      expect((await tensorBytes(other, name)).equals(a)).toBe(false);
    }
  });

  it("never overwrites, and leaves no temp directory behind", async () => {
    await expect(writeSyntheticCheckpoint(join(root, "a"), dims)).rejects.toThrow(CheckpointError);
    await expect(writeSyntheticCheckpoint(join(root, "d"), { ...dims, shards: -1 })).rejects.toThrow(/shards/);
    expect(existsSync(join(root, "d"))).toBe(false);
    expect(readdirSync(root).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });
});
