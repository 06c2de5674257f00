// Checks config.json's quantization_config against what the engine runs: routed experts in
// compressed-tensors pack-quantized INT4, symmetric, group 32 (Kimi K2 Thinking's release format),
// or, when there is no quantization_config at all, plain BF16 routed experts.
// Anything else is rejected here, naming the field, rather than producing garbage in native code.
import { CheckpointError } from "../../errors.js";
import { INT4_GROUP } from "./checkpoint_config.js";

export type QuantizationScheme = { kind: "int4-pack-quantized"; groupSize: number } | { kind: "bf16" };

function fail(path: string, field: string, why: string): never {
  throw new CheckpointError(path, `field "quantization_config.${field}" ${why}`);
}

export function readQuantizationScheme(path: string, raw: Record<string, unknown>): QuantizationScheme {
  const q = raw.quantization_config;
  // No quantization_config: the checkpoint is unquantized, routed experts are BF16 `.weight`s
  // (the tensor check then names any expert stored otherwise).
  if (q === undefined || q === null) return { kind: "bf16" };
  if (typeof q !== "object" || Array.isArray(q)) fail(path, "", "must be an object");
  const qc = q as Record<string, unknown>;
  const method = qc.quant_method;
  if (method !== "compressed-tensors") {
    throw new CheckpointError(
      path,
      `field "quantization_config.quant_method" is ${JSON.stringify(method ?? null)}: not supported ` +
        `(only "compressed-tensors" pack-quantized INT4 group ${INT4_GROUP}; FP8 block checkpoints such as K2 Instruct need converting first)`,
    );
  }
  if (qc.format !== "pack-quantized") fail(path, "format", `is ${JSON.stringify(qc.format ?? null)}: only "pack-quantized" is supported`);
  const groups = qc.config_groups;
  if (!groups || typeof groups !== "object" || Array.isArray(groups) || Object.keys(groups).length === 0) {
    fail(path, "config_groups", "must be a non-empty object");
  }
  for (const [name, g] of Object.entries(groups as Record<string, unknown>)) {
    const w = (g as Record<string, unknown> | null)?.weights as Record<string, unknown> | null | undefined;
    if (!w || typeof w !== "object") fail(path, `config_groups.${name}.weights`, "is missing");
    const want: [string, unknown][] = [
      ["num_bits", 4],
      ["type", "int"],
      ["symmetric", true],
      ["strategy", "group"],
      ["group_size", INT4_GROUP],
    ];
    for (const [field, value] of want) {
      if (w[field] !== value) {
        fail(path, `config_groups.${name}.weights.${field}`, `is ${JSON.stringify(w[field] ?? null)}: only ${JSON.stringify(value)} is supported`);
      }
    }
    const acts = (g as Record<string, unknown>).input_activations;
    if (acts !== undefined && acts !== null) fail(path, `config_groups.${name}.input_activations`, "must be null (activation quantization is not supported)");
  }
  return { kind: "int4-pack-quantized", groupSize: INT4_GROUP };
}
