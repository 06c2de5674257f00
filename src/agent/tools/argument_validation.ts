// Checks model-written tool arguments against the tool's JSON schema (the subset our tools use:
// object/string/integer/number/boolean/array, enum, required, minimum, additionalProperties).
// Messages name the argument and say what was expected, so the model can correct its call.
import { ToolInputError } from "./tool.js";

type Schema = Record<string, unknown>;

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number" && Number.isInteger(value)) return "integer";
  return typeof value;
}

function checkValue(value: unknown, schema: Schema, at: string): void {
  const type = schema.type as string | undefined;
  const actual = typeName(value);
  if (type !== undefined) {
    const ok =
      type === actual ||
      (type === "number" && actual === "integer") ||
      (type === "object" && actual === "object");
    if (!ok) throw new ToolInputError(`argument "${at}" must be ${type === "integer" ? "an integer" : `a ${type}`}, got ${actual} ${JSON.stringify(value)?.slice(0, 60)}`);
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) {
    throw new ToolInputError(`argument "${at}" must be one of ${schema.enum.map((v) => JSON.stringify(v)).join(", ")}, got ${JSON.stringify(value)}`);
  }
  if (typeof value === "number" && typeof schema.minimum === "number" && value < schema.minimum) {
    throw new ToolInputError(`argument "${at}" must be at least ${schema.minimum}, got ${value}`);
  }
  if (type === "array" && Array.isArray(value) && schema.items) {
    value.forEach((item, i) => checkValue(item, schema.items as Schema, `${at}[${i}]`));
  }
  if (type === "object" && actual === "object") checkObject(value as Record<string, unknown>, schema, at);
}

function checkObject(value: Record<string, unknown>, schema: Schema, prefix: string): void {
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  const name = (key: string) => (prefix ? `${prefix}.${key}` : key);
  for (const key of (schema.required ?? []) as string[]) {
    if (value[key] === undefined) throw new ToolInputError(`missing required argument "${name(key)}"`);
  }
  for (const [key, v] of Object.entries(value)) {
    const sub = props[key];
    if (!sub) {
      if (schema.additionalProperties === false) {
        throw new ToolInputError(`unknown argument "${name(key)}"; expected only: ${Object.keys(props).join(", ")}`);
      }
      continue;
    }
    // A model may write null for an optional argument it means to omit.
    if (v === null && !((schema.required ?? []) as string[]).includes(key)) continue;
    checkValue(v, sub, name(key));
  }
}

/** Validates `args` against an object schema; returns them with nulls for optional keys removed. */
export function validateArguments(args: Record<string, unknown>, schema: Schema): Record<string, unknown> {
  checkObject(args, schema, "");
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) if (v !== null) out[k] = v;
  return out;
}
