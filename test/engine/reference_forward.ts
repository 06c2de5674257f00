// An independent float64 DeepSeek-V3 forward pass for small checkpoints, written from
// ../shared/docs/k2-format.md and DeepSeek's inference/model.py (naive, not absorbed, attention;
// INT4 experts dequantized here, BF16 experts read as stored). It shares nothing with the native
// engine but the loader's tensor locations, so agreement with `k2 logits` shows the engine reads every config value it
// should (rope factor/betas, eps, grouped routing, scaling, layer layout) rather than assuming
// K2 Thinking's.
import { readFileSync } from "node:fs";
import { loadCheckpointPlan } from "../../src/engine/checkpoint/load_checkpoint_plan.js";
import type { NativeModelConfig } from "../../src/engine/native_api.js";

type Vec = Float64Array;
type Mat = { data: Vec; rows: number; cols: number };

class Weights {
  private readonly files: Buffer[];
  constructor(private readonly plan: Awaited<ReturnType<typeof loadCheckpointPlan>>["plan"]) {
    this.files = plan.files.map((f) => readFileSync(f));
  }

  has(name: string): boolean {
    return this.plan.tensors[name] !== undefined;
  }

  private bytes(name: string): { buf: Buffer; shape: number[] } {
    const t = this.plan.tensors[name];
    if (!t) throw new Error(`reference: tensor ${name} is not in the plan`);
    return { buf: this.files[t.file]!.subarray(t.offset, t.offset + t.nbytes), shape: t.shape };
  }

  private readonly decoded = new Map<string, Mat>();

  /** A BF16 tensor as float64, row-major (decoded once). */
  bf16(name: string): Mat {
    const hit = this.decoded.get(name);
    if (hit) return hit;
    const m = this.decodeBf16(name);
    this.decoded.set(name, m);
    return m;
  }

  private decodeBf16(name: string): Mat {
    const { buf, shape } = this.bytes(name);
    const data = new Float64Array(buf.length / 2);
    const f = new Float32Array(1), u = new Uint32Array(f.buffer);
    for (let i = 0; i < data.length; i++) {
      u[0] = buf.readUInt16LE(2 * i) << 16;
      data[i] = f[0]!;
    }
    return { data, rows: shape[0]!, cols: shape.length > 1 ? shape[1]! : 1 };
  }

  f32(name: string): Vec {
    const { buf } = this.bytes(name);
    const out = new Float64Array(buf.length / 4);
    for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(4 * i);
    return out;
  }

  /** compressed-tensors pack-quantized INT4: element 0 in the low nibble, offset by 8, bf16 scale per 32. */
  int4(prefix: string): Mat {
    const hit = this.decoded.get(prefix);
    if (hit) return hit;
    const { buf: packed, shape } = this.bytes(`${prefix}.weight_packed`);
    const scale = this.bf16(`${prefix}.weight_scale`);
    const rows = shape[0]!, cols = shape[1]! * 8;
    const data = new Float64Array(rows * cols);
    for (let o = 0; o < rows; o++) {
      for (let i = 0; i < cols; i++) {
        const word = packed.readUInt32LE(4 * (o * (cols / 8) + (i >> 3)));
        data[o * cols + i] = (((word >>> (4 * (i & 7))) & 0xf) - 8) * scale.data[o * (cols / 32) + (i >> 5)]!;
      }
    }
    const m = { data, rows, cols };
    this.decoded.set(prefix, m);
    return m;
  }
}

function matvec(w: { data: Vec; rows: number; cols: number }, x: Vec, offset = 0, len = w.cols): Vec {
  const y = new Float64Array(w.rows);
  for (let r = 0; r < w.rows; r++) {
    let s = 0;
    for (let i = 0; i < len; i++) s += w.data[r * w.cols + i]! * x[offset + i]!;
    y[r] = s;
  }
  return y;
}

function rmsnorm(x: Vec, w: Vec, eps: number): Vec {
  let ss = 0;
  for (const v of x) ss += v * v;
  const inv = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * inv * w[i]!);
}

const silu = (v: number) => v / (1 + Math.exp(-v));
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

function yarnMscale(factor: number, m: number): number {
  return factor <= 1 ? 1 : 0.1 * m * Math.log(factor) + 1;
}

/** DeepSeek-V3 precompute_freqs_cis: YaRN-corrected inverse frequencies. */
function ropeFreqs(c: NativeModelConfig): number[] {
  const d = c.qk_rope_head_dim;
  const freqs = Array.from({ length: d / 2 }, (_, i) => 1 / c.rope_theta ** ((2 * i) / d));
  const s = c.rope_scaling;
  if (!s || s.factor <= 1) return freqs;
  const corrDim = (rot: number) => (d * Math.log(s.original_max_position_embeddings / (rot * 2 * Math.PI))) / (2 * Math.log(c.rope_theta));
  const low = Math.max(Math.floor(corrDim(s.beta_fast)), 0);
  let high = Math.min(Math.ceil(corrDim(s.beta_slow)), d - 1);
  if (high === low) high += 0.001;
  return freqs.map((f, i) => {
    const smooth = 1 - Math.min(Math.max((i - low) / (high - low), 0), 1);
    return (f / s.factor) * (1 - smooth) + f * smooth;
  });
}

function rope(x: Vec, start: number, dim: number, pos: number, freqs: number[]): void {
  for (let i = 0; i < dim / 2; i++) {
    const a = pos * freqs[i]!, cos = Math.cos(a), sin = Math.sin(a);
    const x0 = x[start + 2 * i]!, x1 = x[start + 2 * i + 1]!;
    x[start + 2 * i] = x0 * cos - x1 * sin;
    x[start + 2 * i + 1] = x0 * sin + x1 * cos;
  }
}

/** Logits after every position of `ids` (a full causal prefill), in float64. */
export async function referenceLogits(dir: string, ids: readonly number[]): Promise<Float64Array[]> {
  const { plan, config } = await loadCheckpointPlan(dir);
  const c = plan.config;
  const W = new Weights(plan);
  const T = ids.length, H = c.num_attention_heads, nope = c.qk_nope_head_dim, rd = c.qk_rope_head_dim, vd = c.v_head_dim, lora = c.kv_lora_rank;
  const freqs = ropeFreqs(c);
  const s = c.rope_scaling;
  const mscale = s ? yarnMscale(s.factor, s.mscale_all_dim) : 1;
  const scale = ((nope + rd) ** -0.5) * mscale * mscale;
  const useBias = config.topkMethod === "noaux_tc";

  const embed = W.bf16("model.embed_tokens.weight");
  let x: Vec[] = ids.map((id) => embed.data.slice(id * embed.cols, (id + 1) * embed.cols));

  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}.`;
    // attention
    const inNorm = W.bf16(`${p}input_layernorm.weight`).data;
    const hn = x.map((h) => rmsnorm(h, inNorm, c.rms_norm_eps));
    const q = hn.map((h, t) => {
      const qv = c.q_lora_rank > 0
        ? matvec(W.bf16(`${p}self_attn.q_b_proj.weight`), rmsnorm(matvec(W.bf16(`${p}self_attn.q_a_proj.weight`), h), W.bf16(`${p}self_attn.q_a_layernorm.weight`).data, c.rms_norm_eps))
        : matvec(W.bf16(`${p}self_attn.q_proj.weight`), h);
      for (let hd = 0; hd < H; hd++) rope(qv, hd * (nope + rd) + nope, rd, t, freqs);
      return qv;
    });
    const kvA = W.bf16(`${p}self_attn.kv_a_proj_with_mqa.weight`);
    const kvNorm = W.bf16(`${p}self_attn.kv_a_layernorm.weight`).data;
    const kvB = W.bf16(`${p}self_attn.kv_b_proj.weight`);
    const kpe: Vec[] = [], kvb: Vec[] = [];
    hn.forEach((h, t) => {
      const kv = matvec(kvA, h);
      const pe = kv.slice(lora, lora + rd);
      rope(pe, 0, rd, t, freqs);
      kpe.push(pe);
      kvb.push(matvec(kvB, rmsnorm(kv.slice(0, lora), kvNorm, c.rms_norm_eps)));
    });
    const oProj = W.bf16(`${p}self_attn.o_proj.weight`);
    x = x.map((h, t) => {
      const heads = new Float64Array(H * vd);
      for (let hd = 0; hd < H; hd++) {
        const qo = hd * (nope + rd), ko = hd * (nope + vd);
        const sc = new Float64Array(t + 1);
        let max = -Infinity;
        for (let u = 0; u <= t; u++) {
          let d = 0;
          for (let i = 0; i < nope; i++) d += q[t]![qo + i]! * kvb[u]![ko + i]!;
          for (let i = 0; i < rd; i++) d += q[t]![qo + nope + i]! * kpe[u]![i]!;
          sc[u] = d * scale;
          max = Math.max(max, sc[u]!);
        }
        let sum = 0;
        for (let u = 0; u <= t; u++) sum += sc[u] = Math.exp(sc[u]! - max);
        for (let u = 0; u <= t; u++) for (let i = 0; i < vd; i++) heads[hd * vd + i]! += (sc[u]! / sum) * kvb[u]![ko + nope + i]!;
      }
      const o = matvec(oProj, heads);
      return h.map((v, i) => v + o[i]!);
    });
    // feed-forward
    const postNorm = W.bf16(`${p}post_attention_layernorm.weight`).data;
    const moe = l >= c.first_k_dense_replace && l % c.moe_layer_freq === 0;
    x = x.map((h) => {
      const hn2 = rmsnorm(h, postNorm, c.rms_norm_eps);
      const y = moe ? moeFfn(W, c, p, hn2, useBias) : swiglu(W.bf16(`${p}mlp.gate_proj.weight`), W.bf16(`${p}mlp.up_proj.weight`), W.bf16(`${p}mlp.down_proj.weight`), hn2);
      return h.map((v, i) => v + y[i]!);
    });
  }
  const norm = W.bf16("model.norm.weight").data;
  const head = W.bf16("lm_head.weight");
  return x.map((h) => matvec(head, rmsnorm(h, norm, c.rms_norm_eps)));
}

function swiglu(gate: Mat, up: Mat, down: Mat, x: Vec): Vec {
  const g = matvec(gate, x), u = matvec(up, x);
  return matvec(down, g.map((v, i) => silu(v) * u[i]!));
}

function moeFfn(W: Weights, c: NativeModelConfig, p: string, x: Vec, useBias: boolean): Vec {
  const E = c.n_routed_experts, k = c.num_experts_per_tok;
  const scores = matvec(W.bf16(`${p}mlp.gate.weight`), x).map(sigmoid);
  const bias = useBias ? W.f32(`${p}mlp.gate.e_score_correction_bias`) : new Float64Array(E);
  const sel = scores.map((v, e) => v + bias[e]!);
  if (c.n_group > 1) {
    const per = E / c.n_group;
    const groupScore = Array.from({ length: c.n_group }, (_, g) => {
      const top = Array.from(sel.subarray(g * per, (g + 1) * per)).sort((a, b) => b - a);
      return top[0]! + top[1]!;
    });
    const kept = new Set(groupScore.map((v, g) => [v, g] as const).sort((a, b) => b[0] - a[0]).slice(0, c.topk_group).map(([, g]) => g));
    for (let e = 0; e < E; e++) if (!kept.has(Math.floor(e / per))) sel[e] = -Infinity;
  }
  const chosen = Array.from(sel.keys()).sort((a, b) => sel[b]! - sel[a]! || a - b).slice(0, k);
  let wsum = 0;
  for (const e of chosen) wsum += scores[e]!;
  const y = new Float64Array(x.length);
  for (const e of chosen) {
    const w = ((c.norm_topk_prob ? scores[e]! / wsum : scores[e]!) * c.routed_scaling_factor);
    const ep = `${p}mlp.experts.${e}.`;
    // An unquantized checkpoint (no quantization_config) stores routed experts as BF16 `.weight`s.
    const m = (proj: string) => (W.has(`${ep}${proj}.weight`) ? W.bf16(`${ep}${proj}.weight`) : W.int4(`${ep}${proj}`));
    const out = swiglu(m("gate_proj"), m("up_proj"), m("down_proj"), x);
    for (let i = 0; i < y.length; i++) y[i]! += w * out[i]!;
  }
  if (c.n_shared_experts > 0) {
    const sp = `${p}mlp.shared_experts.`;
    const out = swiglu(W.bf16(`${sp}gate_proj.weight`), W.bf16(`${sp}up_proj.weight`), W.bf16(`${sp}down_proj.weight`), x);
    for (let i = 0; i < y.length; i++) y[i]! += out[i]!;
  }
  return y;
}

/** How engine logits rows compare with the reference: worst |diff|, largest |reference|, argmax per row. */
export function compareWithReference(rows: number[][], ref: number[][]): { maxDiff: number; spread: number; argmax: number[]; refArgmax: number[] } {
  let maxDiff = 0, spread = 0;
  const argmax: number[] = [], refArgmax: number[] = [];
  for (let t = 0; t < ref.length; t++) {
    let best = 0, refBest = 0;
    for (let k = 0; k < ref[t]!.length; k++) {
      maxDiff = Math.max(maxDiff, Math.abs(rows[t]![k]! - ref[t]![k]!));
      spread = Math.max(spread, Math.abs(ref[t]![k]!));
      if (rows[t]![k]! > rows[t]![best]!) best = k;
      if (ref[t]![k]! > ref[t]![refBest]!) refBest = k;
    }
    argmax.push(best);
    refArgmax.push(refBest);
  }
  return { maxDiff, spread, argmax, refArgmax };
}
