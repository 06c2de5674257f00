// The contract between the TypeScript facade and the native addon (native-metal/binding/).
// The facade parses and validates the checkpoint (config.json, index, safetensors headers) and
// hands the addon a load plan: numbers and file offsets only, so the C++ side needs no JSON
// parser and every user-facing error is raised, with its file and field, before native code runs.

/** config.json values the forward pass needs (names as in config.json). */
export interface NativeModelConfig {
  hidden_size: number;
  num_hidden_layers: number;
  first_k_dense_replace: number;
  moe_layer_freq: number;
  num_attention_heads: number;
  q_lora_rank: number; // 0 when the checkpoint has no q_a/q_b (q_proj instead)
  kv_lora_rank: number;
  qk_nope_head_dim: number;
  qk_rope_head_dim: number;
  v_head_dim: number;
  intermediate_size: number;
  moe_intermediate_size: number;
  n_routed_experts: number;
  num_experts_per_tok: number;
  n_shared_experts: number;
  n_group: number;
  topk_group: number;
  norm_topk_prob: boolean;
  routed_scaling_factor: number;
  rms_norm_eps: number;
  rope_theta: number;
  /** YaRN parameters; null for plain RoPE. */
  rope_scaling: {
    factor: number;
    original_max_position_embeddings: number;
    beta_fast: number;
    beta_slow: number;
    mscale: number;
    mscale_all_dim: number;
  } | null;
  vocab_size: number;
  max_position_embeddings: number;
}

export type NativeDType = "BF16" | "F32" | "I32";

/** One tensor's bytes inside a shard: [offset, offset + nbytes) from the start of the file. */
export interface NativeTensorEntry {
  file: number; // index into NativeLoadPlan.files
  offset: number;
  nbytes: number;
  dtype: NativeDType;
  shape: number[];
}

export interface NativeLoadPlan {
  config: NativeModelConfig;
  files: string[]; // absolute shard paths
  tensors: Record<string, NativeTensorEntry>; // every tensor the model uses, validated
  threads: number;
  backend: "cpu" | "metal" | "metal-emu";
  cpuMode: "exact" | "fast";
  /** Bytes the engine may hold (dense + KV + expert cache); 0 = no limit (all experts mapped). */
  memoryBudget: number;
  /** Bytes of expert-cache slots (src/engine/memory_plan.ts); 0 or absent = every expert mapped. */
  expertCacheBytes?: number;
  expertIo?: "pread" | "mmap";
  expertPolicy?: "lru" | "lfu" | "mix";
  expertPrefetch?: boolean;
  /** Route trace file every token's routed experts are appended to (--record-routes). */
  recordRoutes?: string;
}
