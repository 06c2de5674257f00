// What `k2 simulate` needs to know about a model: its routing shape (which layers are MoE, how
// many experts, top-k) and its byte costs (one expert, dense weights resident and read per token,
// KV per token). Computed from a config through the loader's own tensor list (the INT4 layout of
// docs/k2-format.md), never typed in: Kimi K2 Thinking's config.json values are the default.
import { readCheckpointConfig, isMoeLayer, type CheckpointConfig } from "../../engine/checkpoint/checkpoint_config.js";
import { expectedTensors, tensorBytes } from "../../engine/checkpoint/expected_tensors.js";
import { buildModelInfo, kvBytesPerToken, weightTraffic } from "../../engine/checkpoint/model_info.js";
import type { NativeLoadPlan, NativeModelConfig } from "../../engine/native_api.js";

export interface RouteShape {
  nLayers: number;
  moeLayers: number[];
  nExperts: number;
  topK: number;
}

export interface ModelCostShape {
  name: string;
  route: RouteShape;
  /** One routed expert: gate, up and down INT4 matrices with their scales. */
  expertBytes: number;
  /** Weights that stay resident: everything but the routed experts. */
  denseResidentBytes: number;
  /** Non-expert weight bytes one decoded token reads (embedding: one row). */
  denseReadBytesPerToken: number;
  kvBytesPerToken: number;
  /** The load plan the loader would build (no shard files: offsets are 0), for the engine's memory plan. */
  loadPlan: NativeLoadPlan;
}

/** Kimi K2 Thinking's config.json (the values the forward pass uses). */
export const KIMI_K2_CONFIG: NativeModelConfig = {
  hidden_size: 7168,
  num_hidden_layers: 61,
  first_k_dense_replace: 1,
  moe_layer_freq: 1,
  num_attention_heads: 64,
  q_lora_rank: 1536,
  kv_lora_rank: 512,
  qk_nope_head_dim: 128,
  qk_rope_head_dim: 64,
  v_head_dim: 128,
  intermediate_size: 18432,
  moe_intermediate_size: 2048,
  n_routed_experts: 384,
  num_experts_per_tok: 8,
  n_shared_experts: 1,
  n_group: 1,
  topk_group: 1,
  norm_topk_prob: true,
  routed_scaling_factor: 2.827,
  rms_norm_eps: 1e-6,
  rope_theta: 50000,
  rope_scaling: { factor: 64, original_max_position_embeddings: 4096, beta_fast: 32, beta_slow: 1, mscale: 1, mscale_all_dim: 1 },
  vocab_size: 163840,
  max_position_embeddings: 262144,
};

export function costShapeOf(name: string, cfg: Pick<CheckpointConfig, "native" | "tieWordEmbeddings" | "topkMethod">): ModelCostShape {
  const c = cfg.native;
  const tensors = expectedTensors(c, { routerBias: cfg.topkMethod === "noaux_tc" });
  const full = { ...cfg, path: name, raw: {}, architecture: "DeepseekV3ForCausalLM", modelType: "kimi_k2", bosId: undefined, eosIds: [] };
  const info = buildModelInfo(name, full, tensors);
  const traffic = weightTraffic(full, tensors);
  const loadPlan: NativeLoadPlan = {
    config: c,
    files: [],
    tensors: Object.fromEntries(tensors.map((t) => [t.name, { file: 0, offset: 0, nbytes: tensorBytes(t), dtype: t.dtype, shape: t.shape }])),
    threads: 1,
    backend: "cpu",
    cpuMode: "exact",
    memoryBudget: 0,
  };
  const moeLayers: number[] = [];
  for (let l = 0; l < c.num_hidden_layers; l++) if (isMoeLayer(c, l)) moeLayers.push(l);
  return {
    name,
    route: { nLayers: c.num_hidden_layers, moeLayers, nExperts: c.n_routed_experts, topK: c.num_experts_per_tok },
    expertBytes: info.bytes.perExpert,
    denseResidentBytes: info.bytes.dense,
    denseReadBytesPerToken: traffic.dense + traffic.embeddingRow,
    kvBytesPerToken: kvBytesPerToken(c),
    loadPlan,
  };
}

export function kimiK2CostShape(): ModelCostShape {
  return costShapeOf("Kimi K2 Thinking", { native: KIMI_K2_CONFIG, tieWordEmbeddings: false, topkMethod: "noaux_tc" });
}

/** The shape of the checkpoint in `dir` (config.json only; the shards are not read). */
export async function checkpointCostShape(dir: string): Promise<ModelCostShape> {
  return costShapeOf(dir, await readCheckpointConfig(dir));
}
