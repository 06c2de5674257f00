// The checkpoint loader: config.json + index + every shard's safetensors header -> a validated
// NativeLoadPlan (tensor name -> file, offset, bytes), the model summary and sampling defaults.
// Nothing past the headers is read; every problem becomes a CheckpointError naming the file and
// the tensor or field, before native code runs.
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { CheckpointError } from "../../errors.js";
import type { LoadProgress, ModelInfo, SamplingOptions } from "../types.js";
import type { NativeLoadPlan, NativeTensorEntry } from "../native_api.js";
import { readCheckpointConfig, type CheckpointConfig } from "./checkpoint_config.js";
import { readQuantizationScheme } from "./quantization_config.js";
import { readShardIndex } from "./shard_index.js";
import { readSafetensorsHeader, type SafetensorsHeader } from "./safetensors_header.js";
import { expectedTensors, type ExpectedTensor } from "./expected_tensors.js";
import { buildModelInfo } from "./model_info.js";
import { readGenerationConfig } from "./generation_config.js";
import { resolvePlanOptions, type PlanOptions } from "./load_options.js";

export interface CheckpointPlan {
  plan: NativeLoadPlan;
  info: ModelInfo;
  generation: SamplingOptions;
  /** The tensor list the plan was checked against (for byte accounting). */
  tensors: ExpectedTensor[];
  config: CheckpointConfig;
}

/** Headers are small reads; a few in flight hide disk latency without opening 62 files at once. */
const HEADER_CONCURRENCY = 8;

async function readHeaders(files: readonly string[], onProgress?: (p: LoadProgress) => void): Promise<SafetensorsHeader[]> {
  const out: SafetensorsHeader[] = new Array(files.length);
  let next = 0;
  let done = 0;
  let bytes = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      out[i] = await readSafetensorsHeader(files[i]!);
      bytes += out[i]!.fileSize;
      onProgress?.({ phase: "headers", done: ++done, total: files.length, bytesDone: bytes });
    }
  };
  await Promise.all(Array.from({ length: Math.min(HEADER_CONCURRENCY, files.length) }, worker));
  return out;
}

const shapeStr = (s: readonly number[]) => `[${s.join(", ")}]`;

/** A synchronous stretch of work longer than this yields to the event loop, so a progress display can repaint. */
const YIELD_AFTER_MS = 40;

export async function loadCheckpointPlan(dirArg: string, opts: PlanOptions = {}, onProgress?: (p: LoadProgress) => void): Promise<CheckpointPlan> {
  const dir = resolve(dirArg);
  let st;
  try {
    st = await stat(dir);
  } catch {
    throw new CheckpointError(dir, "checkpoint directory does not exist");
  }
  if (!st.isDirectory()) throw new CheckpointError(dir, "not a directory (pass the checkpoint directory, not a file in it)");

  const runOpts = resolvePlanOptions(opts);
  const cfg = await readCheckpointConfig(dir);
  const scheme = readQuantizationScheme(cfg.path, cfg.raw);
  const expertFormat = scheme.kind === "bf16" ? "bf16" : "int4";
  const index = await readShardIndex(dir);
  const headers = await readHeaders(index.files, onProgress);
  const bytesTotal = headers.reduce((n, h) => n + h.fileSize, 0);

  const locate = (name: string): { file: number; header: SafetensorsHeader } | undefined => {
    if (index.tensorFile === null) return headers[0]!.tensors.has(name) ? { file: 0, header: headers[0]! } : undefined;
    const file = index.tensorFile.get(name);
    return file === undefined ? undefined : { file, header: headers[file]! };
  };

  // noaux_tc routing selects with the bias; a checkpoint without it would route differently.
  const routerBias = cfg.topkMethod === "noaux_tc";
  const wanted = expectedTensors(cfg.native, { routerBias, experts: expertFormat });
  if (cfg.tieWordEmbeddings) {
    const i = wanted.findIndex((t) => t.name === "lm_head.weight");
    if (i >= 0 && !locate("lm_head.weight")) wanted.splice(i, 1);
  }

  const tensors: Record<string, NativeTensorEntry> = {};
  const used = new Map<number, number>(); // index.files position -> plan.files position
  const files: string[] = [];
  // Progress in routed experts located (K2: 60 layers x 384), the bulk of the tensors.
  const expertTensors = wanted.filter((t) => t.expert >= 0);
  const perExpert = expertTensors.filter((t) => t.layer === expertTensors[0]?.layer && t.expert === expertTensors[0]?.expert).length;
  const expertsTotal = perExpert > 0 ? expertTensors.length / perExpert : 0;
  let expertTensorsDone = 0;
  let lastYield = performance.now();
  const report = () =>
    onProgress?.({ phase: "experts", done: Math.floor(expertTensorsDone / Math.max(1, perExpert)), total: expertsTotal, bytesDone: bytesTotal, bytesTotal });
  for (let ti = 0; ti < wanted.length; ti++) {
    const t = wanted[ti]!;
    if (onProgress !== undefined && (ti & 1023) === 0 && performance.now() - lastYield > YIELD_AFTER_MS) {
      report();
      await new Promise((r) => setImmediate(r));
      lastYield = performance.now();
    }
    if (t.expert >= 0) expertTensorsDone++;
    const where = locate(t.name);
    if (!where) {
      if (t.optional) continue;
      // Without quantization_config, INT4 experts are looked up as BF16 `.weight`s: say why.
      const why = t.expert >= 0 && expertFormat === "bf16" ? `; config.json has no quantization_config, so routed experts must be unquantized BF16` : "";
      throw new CheckpointError(index.source, `tensor ${t.name} is missing (the model needs ${t.dtype} ${shapeStr(t.shape)}${why})`);
    }
    const entry = where.header.tensors.get(t.name);
    if (!entry) {
      throw new CheckpointError(where.header.path, `tensor ${t.name} is listed in ${index.source} but absent from this shard's header`);
    }
    if (entry.dtype !== t.dtype) {
      throw new CheckpointError(where.header.path, `tensor ${t.name}: dtype ${entry.dtype}, but the model needs ${t.dtype}`);
    }
    if (entry.shape.length !== t.shape.length || entry.shape.some((d, i) => d !== t.shape[i])) {
      throw new CheckpointError(where.header.path, `tensor ${t.name}: shape ${shapeStr(entry.shape)}, but config.json implies ${shapeStr(t.shape)}`);
    }
    let fileNo = used.get(where.file);
    if (fileNo === undefined) {
      fileNo = files.length;
      files.push(index.files[where.file]!);
      used.set(where.file, fileNo);
    }
    tensors[t.name] = { file: fileNo, offset: entry.offset, nbytes: entry.nbytes, dtype: t.dtype, shape: t.shape };
  }
  if (cfg.tieWordEmbeddings && !tensors["lm_head.weight"]) {
    // Tied output projection: the engine reads lm_head from the embedding table's bytes.
    tensors["lm_head.weight"] = tensors["model.embed_tokens.weight"]!;
  }

  report();
  const plan: NativeLoadPlan = { config: cfg.native, files, tensors, ...runOpts };
  const info = buildModelInfo(dir, cfg, wanted);
  const generation = await readGenerationConfig(dir, cfg.native.vocab_size, cfg.eosIds);
  return { plan, info, generation, tensors: wanted, config: cfg };
}
