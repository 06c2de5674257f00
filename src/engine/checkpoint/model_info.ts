// Parameter, byte and memory accounting of a checkpoint, from config.json and its tensor list.
import type { ModelInfo } from "../types.js";
import type { NativeModelConfig } from "../native_api.js";
import { isMoeLayer, type CheckpointConfig } from "./checkpoint_config.js";
import { tensorBytes, type ExpectedTensor } from "./expected_tensors.js";

export interface WeightTraffic {
  /** Weight bytes one decoded token reads: every non-routed weight except the embedding table (one row), plus k experts per MoE layer. */
  perToken: number;
  embeddingRow: number;
  dense: number;
  activeExperts: number;
  lmHead: number;
}

export function moeLayerCount(c: NativeModelConfig): number {
  let n = 0;
  for (let l = 0; l < c.num_hidden_layers; l++) if (isMoeLayer(c, l)) n++;
  return n;
}

/** KV-cache bytes per token: per layer the normalised latent c and the roped k_pe, as f32. */
export function kvBytesPerToken(c: NativeModelConfig): number {
  return c.num_hidden_layers * (c.kv_lora_rank + c.qk_rope_head_dim) * 4;
}

interface Totals {
  denseParams: number;
  denseBytes: number;
  expertParams: number;
  expertBytes: number;
  embedBytes: number;
  lmHeadBytes: number;
}

function totals(tensors: readonly ExpectedTensor[], tied: boolean): Totals {
  const t: Totals = { denseParams: 0, denseBytes: 0, expertParams: 0, expertBytes: 0, embedBytes: 0, lmHeadBytes: 0 };
  for (const x of tensors) {
    // A tied lm_head is the embedding table itself: count its bytes once.
    if (tied && x.name === "lm_head.weight") continue;
    const bytes = tensorBytes(x);
    if (x.name === "model.embed_tokens.weight") t.embedBytes = bytes;
    if (x.name === "lm_head.weight") t.lmHeadBytes = bytes;
    if (x.role === "expert") {
      t.expertParams += x.params;
      t.expertBytes += bytes;
    } else {
      t.denseParams += x.params;
      t.denseBytes += bytes;
    }
  }
  if (tied) t.lmHeadBytes = t.embedBytes;
  return t;
}

export function weightTraffic(cfg: CheckpointConfig, tensors: readonly ExpectedTensor[]): WeightTraffic {
  const c = cfg.native;
  const t = totals(tensors, cfg.tieWordEmbeddings);
  const experts = moeLayerCount(c) * c.n_routed_experts;
  const perExpert = experts > 0 ? t.expertBytes / experts : 0;
  const embeddingRow = c.hidden_size * 2;
  // With tied embeddings the table is read in full as lm_head, so only its extra row read is free.
  const dense = t.denseBytes - (cfg.tieWordEmbeddings ? 0 : t.embedBytes);
  const activeExperts = moeLayerCount(c) * c.num_experts_per_tok * perExpert;
  return { perToken: dense + embeddingRow + activeExperts, embeddingRow, dense, activeExperts, lmHead: t.lmHeadBytes };
}

export function buildModelInfo(dir: string, cfg: CheckpointConfig, tensors: readonly ExpectedTensor[]): ModelInfo {
  const c = cfg.native;
  const t = totals(tensors, cfg.tieWordEmbeddings);
  const moeLayers = moeLayerCount(c);
  const experts = moeLayers * c.n_routed_experts;
  const perExpertParams = experts > 0 ? t.expertParams / experts : 0;
  return {
    dir,
    architecture: cfg.architecture,
    modelType: cfg.modelType,
    hiddenSize: c.hidden_size,
    layers: c.num_hidden_layers,
    denseLayers: c.num_hidden_layers - moeLayers,
    heads: c.num_attention_heads,
    vocabSize: c.vocab_size,
    routedExperts: c.n_routed_experts,
    expertsPerToken: c.num_experts_per_tok,
    sharedExperts: c.n_shared_experts,
    expertFormat: tensors.some((x) => x.role === "expert" && x.name.endsWith(".weight_packed")) || experts === 0 ? "int4" : "bf16",
    kvLoraRank: c.kv_lora_rank,
    qkRopeHeadDim: c.qk_rope_head_dim,
    maxPositionEmbeddings: c.max_position_embeddings,
    params: {
      total: t.denseParams + t.expertParams,
      dense: t.denseParams,
      experts: t.expertParams,
      activePerToken: t.denseParams + moeLayers * c.num_experts_per_tok * perExpertParams,
    },
    bytes: {
      total: t.denseBytes + t.expertBytes,
      dense: t.denseBytes,
      experts: t.expertBytes,
      perExpert: experts > 0 ? t.expertBytes / experts : 0,
    },
    kvBytesPerToken: kvBytesPerToken(c),
    bosId: cfg.bosId ?? -1,
    eosId: cfg.eosIds[0] ?? -1,
  };
}
