// Every tensor the forward pass reads, with the dtype and shape config.json implies (the tensor
// table of docs/k2-format.md). The loader checks the shards against this list; the synthetic
// checkpoint writer produces exactly this list.
import type { NativeDType, NativeModelConfig } from "../native_api.js";
import { INT4_GROUP, isMoeLayer } from "./checkpoint_config.js";

export type TensorRole = "dense" | "expert";

export interface ExpectedTensor {
  name: string;
  dtype: NativeDType;
  shape: number[];
  role: TensorRole;
  /** Parameters this tensor stands for (an INT4 matrix's logical out × in on its weight_packed; 0 on scales/shapes). */
  params: number;
  layer: number; // -1 for embed / norm / lm_head
  expert: number; // -1 unless a routed expert's tensor
  optional?: boolean;
}

function bf16(name: string, shape: number[], layer: number, role: TensorRole = "dense"): ExpectedTensor {
  return { name, dtype: "BF16", shape, role, params: shape.reduce((a, d) => a * d, 1), layer, expert: -1 };
}

/** The three tensors of one pack-quantized INT4 matrix [out, in]. */
function int4(prefix: string, out: number, inDim: number, layer: number, expert: number): ExpectedTensor[] {
  return [
    { name: `${prefix}.weight_packed`, dtype: "I32", shape: [out, inDim / 8], role: "expert", params: out * inDim, layer, expert },
    { name: `${prefix}.weight_scale`, dtype: "BF16", shape: [out, inDim / INT4_GROUP], role: "expert", params: 0, layer, expert },
    { name: `${prefix}.weight_shape`, dtype: "I32", shape: [2], role: "expert", params: 0, layer, expert },
  ];
}

/** How routed experts are stored: pack-quantized INT4 (K2 Thinking) or plain BF16 (no quantization_config). */
export type ExpertFormat = "int4" | "bf16";

/** One BF16 routed-expert matrix [out, in]. */
function bf16Expert(prefix: string, out: number, inDim: number, layer: number, expert: number): ExpectedTensor[] {
  return [{ name: `${prefix}.weight`, dtype: "BF16", shape: [out, inDim], role: "expert", params: out * inDim, layer, expert }];
}

export function expectedTensors(c: NativeModelConfig, opts: { routerBias: boolean; experts?: ExpertFormat }): ExpectedTensor[] {
  const matrix = opts.experts === "bf16" ? bf16Expert : int4;
  const D = c.hidden_size, H = c.num_attention_heads;
  const qk = c.qk_nope_head_dim + c.qk_rope_head_dim;
  const out: ExpectedTensor[] = [bf16("model.embed_tokens.weight", [c.vocab_size, D], -1)];
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}.`;
    out.push(bf16(`${p}input_layernorm.weight`, [D], l), bf16(`${p}post_attention_layernorm.weight`, [D], l));
    if (c.q_lora_rank > 0) {
      out.push(
        bf16(`${p}self_attn.q_a_proj.weight`, [c.q_lora_rank, D], l),
        bf16(`${p}self_attn.q_a_layernorm.weight`, [c.q_lora_rank], l),
        bf16(`${p}self_attn.q_b_proj.weight`, [H * qk, c.q_lora_rank], l),
      );
    } else {
      out.push(bf16(`${p}self_attn.q_proj.weight`, [H * qk, D], l));
    }
    out.push(
      bf16(`${p}self_attn.kv_a_proj_with_mqa.weight`, [c.kv_lora_rank + c.qk_rope_head_dim, D], l),
      bf16(`${p}self_attn.kv_a_layernorm.weight`, [c.kv_lora_rank], l),
      bf16(`${p}self_attn.kv_b_proj.weight`, [H * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank], l),
      bf16(`${p}self_attn.o_proj.weight`, [D, H * c.v_head_dim], l),
    );
    if (!isMoeLayer(c, l)) {
      const I = c.intermediate_size;
      out.push(bf16(`${p}mlp.gate_proj.weight`, [I, D], l), bf16(`${p}mlp.up_proj.weight`, [I, D], l), bf16(`${p}mlp.down_proj.weight`, [D, I], l));
      continue;
    }
    const E = c.n_routed_experts, I = c.moe_intermediate_size;
    out.push(bf16(`${p}mlp.gate.weight`, [E, D], l));
    if (opts.routerBias) {
      out.push({ name: `${p}mlp.gate.e_score_correction_bias`, dtype: "F32", shape: [E], role: "dense", params: E, layer: l, expert: -1 });
    }
    for (let e = 0; e < E; e++) {
      const ep = `${p}mlp.experts.${e}.`;
      out.push(...matrix(`${ep}gate_proj`, I, D, l, e), ...matrix(`${ep}up_proj`, I, D, l, e), ...matrix(`${ep}down_proj`, D, I, l, e));
    }
    if (c.n_shared_experts > 0) {
      const S = I * c.n_shared_experts;
      out.push(
        bf16(`${p}mlp.shared_experts.gate_proj.weight`, [S, D], l),
        bf16(`${p}mlp.shared_experts.up_proj.weight`, [S, D], l),
        bf16(`${p}mlp.shared_experts.down_proj.weight`, [D, S], l),
      );
    }
  }
  out.push(bf16("model.norm.weight", [D], -1), bf16("lm_head.weight", [c.vocab_size, D], -1));
  return out;
}

export const DTYPE_SIZE: Record<NativeDType, number> = { BF16: 2, F32: 4, I32: 4 };

export function tensorBytes(t: { dtype: NativeDType; shape: number[] }): number {
  return t.shape.reduce((a, d) => a * d, 1) * DTYPE_SIZE[t.dtype];
}
