// k2 info: what a checkpoint is and what running it costs, from config.json and the shard headers only.
import { loadCheckpointPlan } from "../../engine/checkpoint/load_checkpoint_plan.js";
import { weightTraffic } from "../../engine/checkpoint/model_info.js";
import { parseIntFlag } from "./engine_flags.js";
import { parseMemoryBudget } from "./memory_budget_flag.js";
import { formatMemoryPlan, planMemory, type MemoryPlan } from "../../engine/memory_plan.js";
import { ConfigError } from "../../errors.js";
import { writeStdout } from "./stdout.js";

export interface InfoFlags {
  model: string;
  context: string;
  memoryBudget?: string;
  json?: boolean;
}

const GB = 1e9;
const fmtBytes = (n: number) => (n >= GB ? `${(n / GB).toFixed(2)} GB` : `${(n / 1e6).toFixed(1)} MB`);
const fmtParams = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} B` : `${(n / 1e6).toFixed(2)} M`);

export async function runInfoCommand(flags: InfoFlags): Promise<void> {
  const context = parseIntFlag("--context", flags.context, 1, 1 << 30)!;
  const { info, plan, tensors, generation, config } = await loadCheckpointPlan(flags.model, {});
  const traffic = weightTraffic(config, tensors);
  const budget = parseMemoryBudget("--memory-budget", flags.memoryBudget);
  // A budget too small is worth showing here, not failing on: info is how one picks a budget.
  let memoryPlan: MemoryPlan | { error: string };
  try {
    memoryPlan = planMemory({
      plan,
      denseBytes: info.bytes.dense,
      expertBytes: info.bytes.experts,
      kvBytesPerToken: info.kvBytesPerToken,
      contextTokens: context,
      budgetBytes: budget,
      budgetSource: budget !== undefined ? "--memory-budget" : undefined,
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    memoryPlan = { error: err.message };
  }
  const kvBytes = info.kvBytesPerToken * context;
  const memory = {
    // Everything mapped: what a machine with enough RAM holds once every expert has been touched.
    allResident: info.bytes.total + kvBytes,
    // Experts streamed from disk: the dense weights and the KV cache must stay resident.
    denseResident: info.bytes.dense + kvBytes,
  };
  const summary = {
    ...info,
    config: plan.config,
    shards: plan.files.length,
    context,
    kvBytes,
    memory,
    memoryPlan,
    weightBytesPerToken: traffic.perToken,
    generationDefaults: generation,
  };
  if (flags.json) {
    await writeStdout(JSON.stringify(summary, null, 2) + "\n");
    return;
  }
  const c = plan.config;
  const lines = [
    `${info.dir}`,
    `  ${info.architecture} (${info.modelType}), ${plan.files.length} shard(s)`,
    `  layers ${info.layers} (${info.denseLayers} dense, ${info.layers - info.denseLayers} MoE) · hidden ${info.hiddenSize} · heads ${info.heads} · vocab ${info.vocabSize}`,
    `  MLA: q_lora ${c.q_lora_rank} · kv_lora ${c.kv_lora_rank} · qk nope/rope ${c.qk_nope_head_dim}/${c.qk_rope_head_dim} · v ${c.v_head_dim}` +
      (c.rope_scaling ? ` · YaRN x${c.rope_scaling.factor}` : ""),
    `  MoE: ${info.routedExperts} routed experts (${info.expertFormat === "bf16" ? "BF16" : "INT4 g32"}) + ${info.sharedExperts} shared, ${info.expertsPerToken} per token` +
      (c.n_group > 1 ? `, ${c.topk_group} of ${c.n_group} groups` : "") +
      ` · expert width ${c.moe_intermediate_size}`,
    `  params: ${fmtParams(info.params.total)} total · ${fmtParams(info.params.dense)} dense · ${fmtParams(info.params.experts)} in experts · ${fmtParams(info.params.activePerToken)} active per token`,
    `  bytes: ${fmtBytes(info.bytes.total)} total · ${fmtBytes(info.bytes.dense)} dense · ${fmtBytes(info.bytes.experts)} experts (${fmtBytes(info.bytes.perExpert)} each)`,
    `  weights read per decoded token: ${fmtBytes(traffic.perToken)}`,
    `  KV cache: ${info.kvBytesPerToken} B/token · ${fmtBytes(kvBytes)} at ${context} tokens`,
    `  memory: ${fmtBytes(memory.allResident)} with every expert resident · ${fmtBytes(memory.denseResident)} dense + KV when experts stream from disk`,
  ];
  lines.push(`  plan: ${"error" in memoryPlan ? memoryPlan.error : formatMemoryPlan(memoryPlan)}`);
  await writeStdout(lines.join("\n") + "\n");
}
