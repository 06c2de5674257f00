// Writes a complete K2-layout checkpoint with random weights of any dimensions: config.json,
// model.safetensors.index.json + N shards (BF16 dense, INT4 pack-quantized routed experts, F32
// router bias), generation_config.json, and tokenizer files copied from a donor directory.
// Deterministic by seed (each tensor is seeded from seed + its name, so the shard count does not
// change the weights), streamed in 1 MiB chunks (a 2 GB checkpoint never sits in memory), and
// atomic: written to a sibling temp directory and renamed into place.
import { copyFile, mkdir, open, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { CheckpointError } from "../../errors.js";
import type { NativeModelConfig } from "../native_api.js";
import { expectedTensors, tensorBytes, type ExpectedTensor, type ExpertFormat } from "./expected_tensors.js";
import { INDEX_FILE, SINGLE_FILE } from "./shard_index.js";

export interface SyntheticCheckpointSpec extends Partial<NativeModelConfig> {
  seed?: number;
  /** Number of shards; 0 writes a single model.safetensors without an index. */
  shards?: number;
  bosId?: number;
  eosId?: number;
  /** Directory whose tiktoken.model / tokenizer_config.json / chat_template.jinja are copied. */
  tokenizerDir?: string;
  /**
   * Headers only: each shard's data section is a hole of the right size (a sparse file), so a
   * checkpoint of the real K2's 594 GB layout takes no disk and seconds to write. For loader tests;
   * its weights read as zeros.
   */
  sparse?: boolean;
  /** Routed experts as plain BF16 `.weight`s and no quantization_config (default: INT4 pack-quantized). */
  expertFormat?: ExpertFormat;
}

/** Tiny-fixture-sized defaults (K2 layout: first layer dense, YaRN, sigmoid routing with bias). */
export const SYNTHETIC_DEFAULTS: NativeModelConfig = {
  hidden_size: 256,
  num_hidden_layers: 3,
  first_k_dense_replace: 1,
  moe_layer_freq: 1,
  num_attention_heads: 4,
  q_lora_rank: 128,
  kv_lora_rank: 64,
  qk_nope_head_dim: 32,
  qk_rope_head_dim: 16,
  v_head_dim: 32,
  intermediate_size: 512,
  moe_intermediate_size: 128,
  n_routed_experts: 16,
  num_experts_per_tok: 4,
  n_shared_experts: 1,
  n_group: 1,
  topk_group: 1,
  norm_topk_prob: true,
  routed_scaling_factor: 2.827,
  rms_norm_eps: 1e-5,
  rope_theta: 50000,
  rope_scaling: { factor: 64, original_max_position_embeddings: 4096, beta_fast: 1, beta_slow: 1, mscale: 1, mscale_all_dim: 1 },
  vocab_size: 1536,
  max_position_embeddings: 262144,
};

const TOKENIZER_FILES = ["tiktoken.model", "tokenizer_config.json", "chat_template.jinja"];

export function syntheticModelConfig(spec: SyntheticCheckpointSpec): NativeModelConfig {
  const c = { ...SYNTHETIC_DEFAULTS };
  for (const key of Object.keys(SYNTHETIC_DEFAULTS) as (keyof NativeModelConfig)[]) {
    if (spec[key] !== undefined) (c as Record<string, unknown>)[key] = spec[key];
  }
  return c;
}

function tokenIds(spec: SyntheticCheckpointSpec, c: NativeModelConfig): { bos: number; eos: number } {
  // The tiny fixture's tokenizer puts its specials at 1280.. ; smaller vocabularies use 0 and 1.
  const bos = spec.bosId ?? (c.vocab_size > 1282 ? 1280 : 0);
  const eos = spec.eosId ?? (c.vocab_size > 1282 ? 1282 : 1);
  return { bos, eos };
}

/** config.json exactly as a Hugging Face K2 Thinking checkpoint spells it. */
export function syntheticConfigJson(spec: SyntheticCheckpointSpec): Record<string, unknown> {
  const c = syntheticModelConfig(spec);
  const { bos, eos } = tokenIds(spec, c);
  const { rope_scaling, ...dims } = c;
  return {
    architectures: ["DeepseekV3ForCausalLM"],
    model_type: "kimi_k2",
    hidden_act: "silu",
    topk_method: "noaux_tc",
    scoring_func: "sigmoid",
    tie_word_embeddings: false,
    torch_dtype: "bfloat16",
    num_key_value_heads: c.num_attention_heads,
    num_nextn_predict_layers: 0,
    ...dims,
    q_lora_rank: c.q_lora_rank > 0 ? c.q_lora_rank : null,
    rope_scaling: rope_scaling ? { ...rope_scaling, type: "yarn" } : null,
    bos_token_id: bos,
    eos_token_id: eos,
    ...(spec.expertFormat === "bf16" ? {} : { quantization_config: INT4_QUANTIZATION_CONFIG }),
  };
}

/** Kimi K2 Thinking's quantization_config: compressed-tensors pack-quantized INT4 group 32 routed experts. */
const INT4_QUANTIZATION_CONFIG = {
  config_groups: {
    group_0: {
      input_activations: null,
      output_activations: null,
      targets: ["Linear"],
      weights: { actorder: null, block_structure: null, dynamic: false, group_size: 32, num_bits: 4, observer: "minmax", observer_kwargs: {}, strategy: "group", symmetric: true, type: "int" },
    },
  },
  format: "pack-quantized",
  ignore: ["lm_head", "re:.*self_attn.*", "re:.*shared_experts.*", "re:.*mlp\\.(gate|up|gate_up|down)_proj.*"],
  kv_cache_scheme: null,
  quant_method: "compressed-tensors",
  quantization_status: "compressed",
};

// ---- deterministic random data ----

function hashName(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h || 1;
}

/** xorshift32 filling a whole array per call: fast enough to write ~2 GB in seconds. */
function fillRandom(state: { s: number }, out: Uint32Array): void {
  let s = state.s;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s >>> 0;
  }
  state.s = s;
}

const f32 = new Float32Array(1);
const f32bits = new Uint32Array(f32.buffer);
function toBf16(x: number): number {
  f32[0] = x;
  const b = f32bits[0]!;
  return (b + 0x7fff + ((b >>> 16) & 1)) >>> 16; // round to nearest even
}

/** How one tensor's values are drawn: uniform in [center - spread, center + spread). */
function distribution(t: ExpectedTensor, c: NativeModelConfig): { center: number; spread: number } {
  const n = t.name;
  if (t.shape.length === 1) {
    if (n.endsWith("e_score_correction_bias")) return { center: 0, spread: 0.05 };
    return { center: 1, spread: 0.1 }; // RMSNorm weights
  }
  const inDim = t.shape[1]!;
  const unit = Math.sqrt(3 / inDim); // unit output variance for unit-variance input
  if (n === "model.embed_tokens.weight") return { center: 0, spread: 1 };
  if (n === "lm_head.weight") return { center: 0, spread: 2 * Math.sqrt(3 / c.hidden_size) }; // logits with std ~2: clear argmaxes
  if (n.endsWith("mlp.gate.weight")) return { center: 0, spread: 2 * unit };
  return { center: 0, spread: unit };
}

const CHUNK_WORDS = 1 << 18; // 1 MiB of u32

/** Streams one tensor's bytes to `write`. */
async function writeTensor(t: ExpectedTensor, c: NativeModelConfig, seed: number, write: (b: Uint8Array) => Promise<void>): Promise<void> {
  const state = { s: hashName(seed, t.name) };
  const bytes = tensorBytes(t);
  if (t.name.endsWith(".weight_shape")) {
    const isDown = t.name.includes(".down_proj.");
    const shape = isDown ? [c.hidden_size, c.moe_intermediate_size] : [c.moe_intermediate_size, c.hidden_size];
    await write(new Uint8Array(Int32Array.from(shape).buffer));
    return;
  }
  if (t.name.endsWith(".weight_packed")) {
    // Uniform nibbles: every 4-bit code 0..15 (value code - 8) equally likely.
    const words = new Uint32Array(CHUNK_WORDS);
    for (let left = bytes / 4; left > 0; ) {
      const n = Math.min(left, CHUNK_WORDS);
      const view = words.subarray(0, n);
      fillRandom(state, view);
      await write(new Uint8Array(view.buffer, 0, n * 4));
      left -= n;
    }
    return;
  }
  if (t.name.endsWith(".weight_scale")) {
    // Codes have variance ~21.25 (uniform -8..7); scale so each expert output has unit variance, ±25% per group.
    const inDim = t.name.includes(".down_proj.") ? c.moe_intermediate_size : c.hidden_size;
    const base = 1 / Math.sqrt(21.25 * inDim);
    await writeValues(state, bytes / 2, "BF16", (u) => base * (1 + 0.25 * u), write);
    return;
  }
  const { center, spread } = distribution(t, c);
  await writeValues(state, t.dtype === "F32" ? bytes / 4 : bytes / 2, t.dtype === "F32" ? "F32" : "BF16", (u) => center + spread * u, write);
}

async function writeValues(state: { s: number }, count: number, dtype: "BF16" | "F32", value: (u: number) => number, write: (b: Uint8Array) => Promise<void>): Promise<void> {
  const rnd = new Uint32Array(CHUNK_WORDS);
  const outBf16 = new Uint16Array(CHUNK_WORDS);
  const outF32 = new Float32Array(CHUNK_WORDS);
  for (let left = count; left > 0; ) {
    const n = Math.min(left, CHUNK_WORDS);
    fillRandom(state, rnd.subarray(0, n));
    for (let i = 0; i < n; i++) {
      const u = (rnd[i]! >>> 8) * (1 / 8388608) - 1; // uniform [-1, 1)
      if (dtype === "BF16") outBf16[i] = toBf16(value(u));
      else outF32[i] = value(u);
    }
    const buf = dtype === "BF16" ? new Uint8Array(outBf16.buffer, 0, n * 2) : new Uint8Array(outF32.buffer, 0, n * 4);
    await write(buf);
    left -= n;
  }
}

// ---- layout ----

function splitShards(tensors: ExpectedTensor[], shards: number): ExpectedTensor[][] {
  const total = tensors.reduce((a, t) => a + tensorBytes(t), 0);
  const out: ExpectedTensor[][] = [[]];
  let acc = 0;
  for (const t of tensors) {
    // Move to the next shard once this one holds its share (experts of one layer may straddle two shards, as in the real release).
    if (out.length < shards && acc >= (total * out.length) / shards && out[out.length - 1]!.length > 0) out.push([]);
    out[out.length - 1]!.push(t);
    acc += tensorBytes(t);
  }
  return out;
}

function headerFor(tensors: ExpectedTensor[]): { header: Buffer; dataBytes: number } {
  const json: Record<string, unknown> = { __metadata__: { format: "pt" } };
  let off = 0;
  for (const t of tensors) {
    const n = tensorBytes(t);
    json[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + n] };
    off += n;
  }
  let text = JSON.stringify(json);
  // Pad with spaces (allowed by the format) so the data section starts 64-byte aligned.
  text += " ".repeat((64 - ((8 + Buffer.byteLength(text)) % 64)) % 64);
  const body = Buffer.from(text, "utf8");
  const header = Buffer.alloc(8 + body.length);
  header.writeBigUInt64LE(BigInt(body.length), 0);
  body.copy(header, 8);
  return { header, dataBytes: off };
}

async function writeShard(path: string, tensors: ExpectedTensor[], c: NativeModelConfig, seed: number, sparse: boolean): Promise<number> {
  const { header, dataBytes } = headerFor(tensors);
  const fh = await open(path, "wx");
  try {
    if (sparse) {
      await fh.write(header, 0, header.length, 0);
      await fh.truncate(header.length + dataBytes);
      return dataBytes;
    }
    let pos = 0;
    const write = async (b: Uint8Array) => {
      let done = 0;
      while (done < b.length) {
        const { bytesWritten } = await fh.write(b, done, b.length - done, pos);
        done += bytesWritten;
        pos += bytesWritten;
      }
    };
    await write(header);
    for (const t of tensors) await writeTensor(t, c, seed, write);
    if (pos !== header.length + dataBytes) throw new Error(`internal: wrote ${pos} bytes, header promises ${header.length + dataBytes}`);
  } finally {
    await fh.close();
  }
  return dataBytes;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes the checkpoint to `dir` (which must not exist yet) and returns its absolute path. */
export async function writeSyntheticCheckpoint(dirArg: string, spec: SyntheticCheckpointSpec = {}): Promise<string> {
  const dir = resolve(dirArg);
  if (await exists(dir)) throw new CheckpointError(dir, "already exists; the synthetic checkpoint writer never overwrites");
  const c = syntheticModelConfig(spec);
  const seed = (spec.seed ?? 1) >>> 0;
  const shardCount = spec.shards ?? 2;
  if (!Number.isInteger(shardCount) || shardCount < 0) throw new CheckpointError(dir, `shards must be an integer >= 0 (got ${shardCount})`);
  const tensors = expectedTensors(c, { routerBias: true, experts: spec.expertFormat ?? "int4" });
  const groups = splitShards(tensors, Math.max(1, shardCount));

  await mkdir(dirname(dir), { recursive: true });
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-${Date.now()}`);
  await mkdir(tmp);
  try {
    const weightMap: Record<string, string> = {};
    let total = 0;
    for (let i = 0; i < groups.length; i++) {
      const name = shardCount === 0 ? SINGLE_FILE : `model-${String(i + 1).padStart(5, "0")}-of-${String(groups.length).padStart(5, "0")}.safetensors`;
      total += await writeShard(join(tmp, name), groups[i]!, c, seed, spec.sparse ?? false);
      for (const t of groups[i]!) weightMap[t.name] = name;
    }
    const cfg = syntheticConfigJson(spec);
    await writeFile(join(tmp, "config.json"), JSON.stringify(cfg, null, 2) + "\n");
    if (shardCount > 0) await writeFile(join(tmp, INDEX_FILE), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2) + "\n");
    const { bos, eos } = tokenIds(spec, c);
    await writeFile(join(tmp, "generation_config.json"), JSON.stringify({ bos_token_id: bos, eos_token_id: eos, temperature: 1.0 }, null, 2) + "\n");
    if (spec.tokenizerDir) {
      for (const f of TOKENIZER_FILES) {
        if (await exists(join(spec.tokenizerDir, f))) await copyFile(join(spec.tokenizerDir, f), join(tmp, f));
      }
    }
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return dir;
}
