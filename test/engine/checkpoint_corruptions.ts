// Real corrupted copies of a small synthetic checkpoint, one per way a download or conversion goes
// wrong, each with what the resulting error must name. Shared by the loader test (library level)
// and the CLI test (exit code and stderr of the built `k2`).
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync, statSync, openSync, readSync, closeSync, chmodSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeSyntheticCheckpoint } from "../../src/engine/checkpoint/synthetic_checkpoint.js";

export const TINY = "../shared/fixtures/kimi-k2-tiny";
export const SHARD1 = "model-00001-of-00002.safetensors";
export const SHARD2 = "model-00002-of-00002.safetensors";

export interface Corruption {
  name: string;
  apply(dir: string): void;
  /** Every pattern must appear in the error message. */
  expect: (string | RegExp)[];
}

export async function makeBaseCheckpoint(): Promise<{ root: string; base: string }> {
  const root = mkdtempSync(join(tmpdir(), "k2-ckpt-"));
  const base = await writeSyntheticCheckpoint(join(root, "base"), { shards: 2, seed: 3, tokenizerDir: TINY });
  return { root, base };
}

/** A fresh writable copy of base. */
export function copyCheckpoint(base: string, root: string, name: string): string {
  const dir = join(root, name.replace(/[^a-z0-9]+/gi, "_"));
  rmSync(dir, { recursive: true, force: true });
  cpSync(base, dir, { recursive: true });
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
  return dir;
}

function editJson(path: string, edit: (j: any) => void): void {
  const j = JSON.parse(readFileSync(path, "utf8"));
  edit(j);
  writeFileSync(path, JSON.stringify(j, null, 2));
}

/** Rewrites a shard's header JSON (keeping its data section) after `edit` changes it. */
export function editHeader(path: string, edit: (h: Record<string, any>, dataBytes: number) => void): void {
  const buf = readFileSync(path);
  const len = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + len).toString("utf8"));
  const data = buf.subarray(8 + len);
  edit(header, data.length);
  const text = Buffer.from(JSON.stringify(header), "utf8");
  const lenBuf = Buffer.alloc(8);
  lenBuf.writeBigUInt64LE(BigInt(text.length));
  writeFileSync(path, Buffer.concat([lenBuf, text, data]));
}

function readHeaderNames(path: string): string[] {
  const fd = openSync(path, "r");
  const lb = Buffer.alloc(8);
  readSync(fd, lb, 0, 8, 0);
  const hb = Buffer.alloc(Number(lb.readBigUInt64LE(0)));
  readSync(fd, hb, 0, hb.length, 8);
  closeSync(fd);
  return Object.keys(JSON.parse(hb.toString("utf8"))).filter((k) => k !== "__metadata__");
}

const Q_A = "model.layers.0.self_attn.q_a_proj.weight";
const NORM0 = "model.layers.0.input_layernorm.weight";
const NORM0_POST = "model.layers.0.post_attention_layernorm.weight";
const BIAS1 = "model.layers.1.mlp.gate.e_score_correction_bias";
const SHAPE_T = "model.layers.1.mlp.experts.0.gate_proj.weight_shape";
const PACKED_T = "model.layers.1.mlp.experts.0.gate_proj.weight_packed";

export const CORRUPTIONS: Corruption[] = [
  { name: "config.json missing", apply: (d) => unlinkSync(join(d, "config.json")), expect: ["config.json", "missing"] },
  { name: "config.json not JSON", apply: (d) => writeFileSync(join(d, "config.json"), "{ not json"), expect: ["config.json", "not valid JSON"] },
  {
    name: "wrong architecture",
    apply: (d) => editJson(join(d, "config.json"), (j) => ((j.architectures = ["LlamaForCausalLM"]), (j.model_type = "llama"))),
    expect: ["config.json", "not a K2/DeepSeek-V3 checkpoint"],
  },
  {
    name: "FP8 quantization",
    apply: (d) => editJson(join(d, "config.json"), (j) => (j.quantization_config = { quant_method: "fp8", fmt: "e4m3", weight_block_size: [128, 128] })),
    expect: ["config.json", "quantization_config.quant_method", "fp8"],
  },
  {
    // Without quantization_config the experts must be BF16 `.weight`s; these are INT4.
    name: "no quantization_config over INT4 experts",
    apply: (d) => editJson(join(d, "config.json"), (j) => delete j.quantization_config),
    expect: ["gate_proj.weight", "is missing", "no quantization_config", "BF16"],
  },
  {
    name: "INT8 group quantization",
    apply: (d) => editJson(join(d, "config.json"), (j) => (j.quantization_config.config_groups.group_0.weights.num_bits = 8)),
    expect: ["config.json", "quantization_config.config_groups.group_0.weights.num_bits"],
  },
  { name: "field missing", apply: (d) => editJson(join(d, "config.json"), (j) => delete j.kv_lora_rank), expect: ["config.json", '"kv_lora_rank"', "missing"] },
  { name: "field wrong type", apply: (d) => editJson(join(d, "config.json"), (j) => (j.hidden_size = "256")), expect: ["config.json", '"hidden_size"', "integer"] },
  { name: "n_group not dividing experts", apply: (d) => editJson(join(d, "config.json"), (j) => (j.n_group = 3)), expect: ["config.json", '"n_group"', "divide"] },
  { name: "top-k above expert count", apply: (d) => editJson(join(d, "config.json"), (j) => (j.num_experts_per_tok = 99)), expect: ["config.json", '"num_experts_per_tok"'] },
  { name: "unsupported rope scaling", apply: (d) => editJson(join(d, "config.json"), (j) => (j.rope_scaling.type = "linear")), expect: ["config.json", "rope_scaling.type", "linear"] },
  {
    name: "YaRN mscale the engine does not apply",
    apply: (d) => editJson(join(d, "config.json"), (j) => delete j.rope_scaling.mscale_all_dim),
    expect: ["config.json", '"rope_scaling.mscale"', "mscale_all_dim 0"],
  },
  { name: "eos id out of vocab", apply: (d) => editJson(join(d, "config.json"), (j) => (j.eos_token_id = 99999)), expect: ["config.json", '"eos_token_id"', "vocab"] },
  {
    name: "shape differs from config",
    apply: (d) => editJson(join(d, "config.json"), (j) => (j.q_lora_rank = 64)),
    expect: [SHARD1, Q_A, "shape [128, 256]", "[64, 256]"],
  },
  { name: "shard file missing", apply: (d) => unlinkSync(join(d, SHARD2)), expect: [SHARD2, "missing"] },
  {
    name: "truncated shard",
    apply: (d) => truncateSync(join(d, SHARD2), statSync(join(d, SHARD2)).size - 100),
    expect: [SHARD2, "truncated"],
  },
  { name: "shard shorter than its header", apply: (d) => truncateSync(join(d, SHARD1), 100), expect: [SHARD1, "truncated"] },
  { name: "garbage shard", apply: (d) => writeFileSync(join(d, SHARD1), Buffer.alloc(4096, 0xff)), expect: [SHARD1, "header length"] },
  {
    name: "header offsets past the end",
    apply: (d) =>
      editHeader(join(d, SHARD1), (h, dataBytes) => {
        const [b, e] = h[NORM0].data_offsets;
        h[NORM0].data_offsets = [dataBytes, dataBytes + (e - b)];
      }),
    expect: [SHARD1, NORM0, "past the end"],
  },
  {
    name: "overlapping tensors",
    apply: (d) => editHeader(join(d, SHARD1), (h) => (h[NORM0_POST].data_offsets = [...h[NORM0].data_offsets])),
    expect: [SHARD1, "overlaps", NORM0],
  },
  {
    name: "offsets not matching dtype x shape",
    apply: (d) => editHeader(join(d, SHARD1), (h) => (h[Q_A].shape = [128, 255])),
    expect: [SHARD1, Q_A, "needs"],
  },
  {
    name: "dtype differs",
    apply: (d) => editHeader(join(d, SHARD1), (h) => (h[SHAPE_T].dtype = "F32")),
    expect: [SHARD1, SHAPE_T, "dtype F32", "I32"],
  },
  {
    name: "router bias stored as BF16",
    apply: (d) =>
      editHeader(join(d, SHARD1), (h) => {
        h[BIAS1].dtype = "BF16";
        h[BIAS1].shape = [h[BIAS1].shape[0] * 2];
      }),
    expect: [SHARD1, BIAS1, "BF16"],
  },
  {
    name: "tensor missing from index",
    apply: (d) => editJson(join(d, "model.safetensors.index.json"), (j) => delete j.weight_map[PACKED_T]),
    expect: ["model.safetensors.index.json", PACKED_T, "missing"],
  },
  {
    name: "tensor missing from shard header",
    apply: (d) => editHeader(join(d, SHARD1), (h) => delete h[PACKED_T]),
    expect: [SHARD1, PACKED_T, "absent"],
  },
  {
    name: "index points outside the directory",
    apply: (d) => editJson(join(d, "model.safetensors.index.json"), (j) => (j.weight_map[Q_A] = "../elsewhere.safetensors")),
    expect: ["model.safetensors.index.json", Q_A, "shard file name"],
  },
  {
    name: "no weights at all",
    apply: (d) => {
      unlinkSync(join(d, "model.safetensors.index.json"));
    },
    expect: ["model.safetensors.index.json", "model.safetensors", "no weights"],
  },
  {
    name: "generation_config.json invalid",
    apply: (d) => editJson(join(d, "generation_config.json"), (j) => (j.top_p = 3)),
    expect: ["generation_config.json", '"top_p"'],
  },
];

export { readHeaderNames };
