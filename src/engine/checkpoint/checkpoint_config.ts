// Reads config.json and validates every field the forward pass needs, so the native engine never
// sees a value it cannot run. Errors name config.json and the field.
import { join } from "node:path";
import { CheckpointError } from "../../errors.js";
import type { NativeModelConfig } from "../native_api.js";
import { readJsonObject } from "./json_file.js";

const ARCHITECTURES = new Set(["DeepseekV3ForCausalLM"]);
const MODEL_TYPES = new Set(["kimi_k2", "deepseek_v3"]);
/** INT4 expert matrices are quantized in groups of 32 along their input dimension. */
export const INT4_GROUP = 32;

export interface CheckpointConfig {
  path: string;
  raw: Record<string, unknown>;
  native: NativeModelConfig;
  architecture: string;
  modelType: string;
  tieWordEmbeddings: boolean;
  /** noaux_tc routing needs e_score_correction_bias; other methods select on the raw scores. */
  topkMethod: string;
  bosId: number | undefined;
  eosIds: number[];
}

class FieldReader {
  constructor(
    private readonly path: string,
    private readonly obj: Record<string, unknown>,
    private readonly prefix = "",
  ) {}

  fail(field: string, why: string): never {
    throw new CheckpointError(this.path, `field "${this.prefix}${field}" ${why}`);
  }

  has(field: string): boolean {
    return this.obj[field] !== undefined && this.obj[field] !== null;
  }

  int(field: string, min: number, fallback?: number): number {
    const v = this.obj[field];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      this.fail(field, "is missing");
    }
    if (typeof v !== "number" || !Number.isInteger(v)) this.fail(field, `must be an integer (got ${JSON.stringify(v)})`);
    if (v < min) this.fail(field, `must be at least ${min} (got ${v})`);
    return v;
  }

  positiveNumber(field: string, fallback?: number): number {
    const v = this.obj[field];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      this.fail(field, "is missing");
    }
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) this.fail(field, `must be a positive number (got ${JSON.stringify(v)})`);
    return v;
  }

  bool(field: string, fallback: boolean): boolean {
    const v = this.obj[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "boolean") this.fail(field, `must be true or false (got ${JSON.stringify(v)})`);
    return v;
  }

  string(field: string, fallback?: string): string {
    const v = this.obj[field];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      this.fail(field, "is missing");
    }
    if (typeof v !== "string") this.fail(field, `must be a string (got ${JSON.stringify(v)})`);
    return v;
  }

  tokenIds(field: string): number[] {
    const v = this.obj[field];
    if (v === undefined || v === null) return [];
    const list = Array.isArray(v) ? v : [v];
    for (const id of list) {
      if (typeof id !== "number" || !Number.isInteger(id) || id < 0) this.fail(field, `must be a token id or a list of them (got ${JSON.stringify(v)})`);
    }
    return list as number[];
  }

  object(field: string): FieldReader | null {
    const v = this.obj[field];
    if (v === undefined || v === null) return null;
    if (typeof v !== "object" || Array.isArray(v)) this.fail(field, "must be an object");
    return new FieldReader(this.path, v as Record<string, unknown>, `${this.prefix}${field}.`);
  }
}

function readRopeScaling(r: FieldReader): NativeModelConfig["rope_scaling"] {
  const s = r.object("rope_scaling");
  if (!s) return null;
  const type = s.has("type") ? s.string("type") : s.string("rope_type");
  if (type !== "yarn") s.fail(s.has("type") ? "type" : "rope_type", `"${type}" is not supported (only "yarn")`);
  const scaling = {
    factor: s.positiveNumber("factor"),
    original_max_position_embeddings: s.int("original_max_position_embeddings", 1),
    beta_fast: s.positiveNumber("beta_fast", 32),
    beta_slow: s.positiveNumber("beta_slow", 1),
    mscale: s.positiveNumber("mscale", 1),
    mscale_all_dim: s.has("mscale_all_dim") ? s.positiveNumber("mscale_all_dim") : 0,
  };
  // DeepSeek-V3's YaRN multiplies cos/sin by yarn_mscale(mscale) / yarn_mscale(mscale_all_dim).
  // K2 and DeepSeek-V3 set both to 1 (ratio 1); the engine does not apply any other ratio, so a
  // config needing one is refused rather than run with silently wrong attention scores.
  const ratio = yarnMscale(scaling.factor, scaling.mscale) / yarnMscale(scaling.factor, scaling.mscale_all_dim);
  if (Math.abs(ratio - 1) > 1e-9) {
    s.fail(
      "mscale",
      `(${scaling.mscale}) with mscale_all_dim ${scaling.mscale_all_dim} scales the rotary embedding by ${ratio.toFixed(4)}; ` +
        `only configs where the two give the same YaRN mscale (as in K2 and DeepSeek-V3) are supported`,
    );
  }
  return scaling;
}

/** DeepSeek-V3's yarn_get_mscale. */
function yarnMscale(factor: number, mscale: number): number {
  return factor <= 1 ? 1 : 0.1 * mscale * Math.log(factor) + 1;
}

export async function readCheckpointConfig(dir: string): Promise<CheckpointConfig> {
  const path = join(dir, "config.json");
  const raw = (await readJsonObject(path, "config.json (the checkpoint's model configuration)"))!;
  const r = new FieldReader(path, raw);

  const archs = raw.architectures;
  const architecture = Array.isArray(archs) && typeof archs[0] === "string" ? archs[0] : "";
  const modelType = typeof raw.model_type === "string" ? raw.model_type : "";
  if (!ARCHITECTURES.has(architecture) || !MODEL_TYPES.has(modelType)) {
    throw new CheckpointError(
      path,
      `not a K2/DeepSeek-V3 checkpoint: architectures ${JSON.stringify(archs ?? null)}, model_type ${JSON.stringify(raw.model_type ?? null)} ` +
        `(expected DeepseekV3ForCausalLM with model_type kimi_k2 or deepseek_v3)`,
    );
  }

  const act = r.string("hidden_act", "silu");
  if (act !== "silu") r.fail("hidden_act", `"${act}" is not supported (only "silu")`);
  const scoring = r.string("scoring_func", "sigmoid");
  if (scoring !== "sigmoid") r.fail("scoring_func", `"${scoring}" is not supported (only "sigmoid", as in DeepSeek-V3/K2)`);
  const topkMethod = r.string("topk_method", "noaux_tc");
  if (topkMethod !== "noaux_tc" && topkMethod !== "greedy") r.fail("topk_method", `"${topkMethod}" is not supported (noaux_tc or greedy)`);

  const hidden = r.int("hidden_size", 1);
  const layers = r.int("num_hidden_layers", 1);
  const experts = r.int("n_routed_experts", 1);
  const nGroup = r.int("n_group", 1, 1);
  const qkRope = r.int("qk_rope_head_dim", 2);
  const native: NativeModelConfig = {
    hidden_size: hidden,
    num_hidden_layers: layers,
    first_k_dense_replace: r.int("first_k_dense_replace", 0, 0),
    moe_layer_freq: r.int("moe_layer_freq", 1, 1),
    num_attention_heads: r.int("num_attention_heads", 1),
    q_lora_rank: r.int("q_lora_rank", 0, 0),
    kv_lora_rank: r.int("kv_lora_rank", 1),
    qk_nope_head_dim: r.int("qk_nope_head_dim", 1),
    qk_rope_head_dim: qkRope,
    v_head_dim: r.int("v_head_dim", 1),
    intermediate_size: r.int("intermediate_size", 1),
    moe_intermediate_size: r.int("moe_intermediate_size", 1),
    n_routed_experts: experts,
    num_experts_per_tok: r.int("num_experts_per_tok", 1),
    n_shared_experts: r.int("n_shared_experts", 0, 0),
    n_group: nGroup,
    topk_group: r.int("topk_group", 1, 1),
    norm_topk_prob: r.bool("norm_topk_prob", false),
    routed_scaling_factor: r.positiveNumber("routed_scaling_factor", 1),
    rms_norm_eps: r.positiveNumber("rms_norm_eps"),
    rope_theta: r.positiveNumber("rope_theta", 10000),
    rope_scaling: readRopeScaling(r),
    vocab_size: r.int("vocab_size", 1),
    max_position_embeddings: r.int("max_position_embeddings", 1),
  };

  const c = native;
  if (c.first_k_dense_replace > layers) r.fail("first_k_dense_replace", `must be at most num_hidden_layers (${layers})`);
  if (qkRope % 2 !== 0) r.fail("qk_rope_head_dim", `must be even: RoPE rotates pairs (got ${qkRope})`);
  if (hidden % INT4_GROUP !== 0) r.fail("hidden_size", `must be a multiple of ${INT4_GROUP}, the INT4 expert group size (got ${hidden})`);
  if (c.moe_intermediate_size % INT4_GROUP !== 0) {
    r.fail("moe_intermediate_size", `must be a multiple of ${INT4_GROUP}, the INT4 expert group size (got ${c.moe_intermediate_size})`);
  }
  if (c.num_experts_per_tok > experts) r.fail("num_experts_per_tok", `must be at most n_routed_experts (${experts}); got ${c.num_experts_per_tok}`);
  if (experts % nGroup !== 0) r.fail("n_group", `must divide n_routed_experts (${experts}); got ${nGroup}`);
  if (c.topk_group > nGroup) r.fail("topk_group", `must be at most n_group (${nGroup}); got ${c.topk_group}`);
  if (nGroup > 1) {
    const perGroup = experts / nGroup;
    // Groups are ranked by the sum of their best two scores, and the kept groups must hold k experts.
    if (perGroup < 2) r.fail("n_group", `leaves ${perGroup} expert per group; group ranking needs at least 2`);
    if (c.topk_group * perGroup < c.num_experts_per_tok) {
      r.fail("topk_group", `keeps ${c.topk_group} groups of ${perGroup} experts, fewer than num_experts_per_tok (${c.num_experts_per_tok})`);
    }
  }
  if (c.rope_scaling && c.rope_scaling.original_max_position_embeddings > c.max_position_embeddings) {
    r.fail("rope_scaling.original_max_position_embeddings", `exceeds max_position_embeddings (${c.max_position_embeddings})`);
  }

  const eosIds = r.tokenIds("eos_token_id");
  const bos = r.tokenIds("bos_token_id");
  for (const [field, ids] of [["eos_token_id", eosIds], ["bos_token_id", bos]] as const) {
    for (const id of ids) if (id >= c.vocab_size) r.fail(field, `id ${id} is outside the vocabulary (vocab_size ${c.vocab_size})`);
  }
  return {
    path,
    raw,
    native,
    architecture,
    modelType,
    tieWordEmbeddings: r.bool("tie_word_embeddings", false),
    topkMethod,
    bosId: bos[0],
    eosIds,
  };
}

/** DeepSeek-V3's layer rule (mirrored by the engine): dense below first_k_dense_replace, then every moe_layer_freq-th layer is MoE. */
export function isMoeLayer(c: NativeModelConfig, layer: number): boolean {
  return layer >= c.first_k_dense_replace && layer % c.moe_layer_freq === 0;
}
