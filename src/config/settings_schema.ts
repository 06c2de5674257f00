// The settings k2 understands: one table from which the config file's JSON schema, the env-var
// names, value parsing and `k2 config list` all derive, so they cannot drift apart.
import { ConfigError } from "../errors.js";

export type SettingKind = "string" | "number" | "integer" | "boolean" | "enum";

export interface SettingSpec {
  kind: SettingKind;
  description: string;
  env: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  values?: readonly string[];
  default?: string | number | boolean;
}

export const SETTINGS = {
  model: { kind: "string", env: "K2_MODEL", description: "checkpoint folder (a Kimi K2 / DeepSeek-V3 safetensors snapshot)" },
  temperature: { kind: "number", env: "K2_TEMPERATURE", minimum: 0, maximum: 2, description: "sampling temperature (0 = greedy)" },
  topP: { kind: "number", env: "K2_TOP_P", exclusiveMinimum: 0, maximum: 1, description: "nucleus sampling mass" },
  topK: { kind: "integer", env: "K2_TOP_K", minimum: 0, description: "keep the k most likely tokens (0 = off)" },
  minP: { kind: "number", env: "K2_MIN_P", minimum: 0, maximum: 1, description: "drop tokens below min-p x the top probability (0 = off)" },
  seed: { kind: "integer", env: "K2_SEED", minimum: 0, description: "sampler seed for reproducible output" },
  maxTokens: { kind: "integer", env: "K2_MAX_TOKENS", minimum: 1, description: "most tokens generated per model step" },
  contextSize: { kind: "integer", env: "K2_CONTEXT", minimum: 16, default: 32768, description: "context window (KV-cache capacity) in tokens" },
  memoryBudgetGB: { kind: "number", env: "K2_MEMORY_BUDGET_GB", exclusiveMinimum: 0, description: "memory the engine may keep resident, in GB (experts beyond it stream from disk)" },
  expertIo: { kind: "enum", env: "K2_EXPERT_IO", values: ["pread", "mmap"], description: "how experts beyond the memory budget are read from disk" },
  recordRoutes: { kind: "string", env: "K2_RECORD_ROUTES", description: "route trace file the engine appends every token's routed experts to (k2 simulate --trace)" },
  threads: { kind: "integer", env: "K2_THREADS", minimum: 1, description: "CPU threads for the engine" },
  backend: { kind: "enum", env: "K2_BACKEND", values: ["cpu", "metal", "metal-emu"], description: "compute backend" },
  permissionMode: { kind: "enum", env: "K2_PERMISSION_MODE", values: ["ask", "auto-edit", "yolo"], default: "ask", description: "what tools may do without asking" },
  theme: { kind: "enum", env: "K2_THEME", values: ["dark", "light", "mono"], default: "dark", description: "TUI colours" },
  compactThreshold: { kind: "number", env: "K2_COMPACT_THRESHOLD", minimum: 0.5, maximum: 0.99, default: 0.85, description: "compact the conversation when this fraction of the context is used" },
  showThinking: { kind: "boolean", env: "K2_SHOW_THINKING", default: false, description: "show reasoning expanded in the TUI / on stderr in one-shots" },
} as const satisfies Record<string, SettingSpec>;

export type SettingKey = keyof typeof SETTINGS;

type ValueOf<S extends SettingSpec> = S["kind"] extends "boolean"
  ? boolean
  : S["kind"] extends "number" | "integer"
    ? number
    : S extends { values: readonly (infer V)[] }
      ? V
      : string;

export type Settings = { [K in SettingKey]?: ValueOf<(typeof SETTINGS)[K]> };

export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

export function isSettingKey(key: string): key is SettingKey {
  return Object.prototype.hasOwnProperty.call(SETTINGS, key);
}

export function settingSpec(key: SettingKey): SettingSpec {
  return SETTINGS[key];
}

export function requireSettingKey(key: string): SettingKey {
  if (!isSettingKey(key)) {
    throw new ConfigError(`unknown setting "${key}" (known: ${SETTING_KEYS.join(", ")})`);
  }
  return key;
}

/** The config file's JSON schema properties (conf validates every read and write against it). */
export function jsonSchemaProperties(): Record<string, Record<string, unknown>> {
  const props: Record<string, Record<string, unknown>> = {};
  for (const key of SETTING_KEYS) {
    const spec: SettingSpec = SETTINGS[key];
    const prop: Record<string, unknown> = { description: spec.description };
    if (spec.kind === "enum") prop.enum = [...(spec.values ?? [])];
    else prop.type = spec.kind;
    if (spec.kind === "string") prop.minLength = 1;
    if (spec.minimum !== undefined) prop.minimum = spec.minimum;
    if (spec.maximum !== undefined) prop.maximum = spec.maximum;
    if (spec.exclusiveMinimum !== undefined) prop.exclusiveMinimum = spec.exclusiveMinimum;
    props[key] = prop;
  }
  return props;
}

/**
 * Parses a setting from text (a flag, an env var, `k2 config set`) and checks its range.
 * `source` names where the text came from, so the error points at it.
 */
export function parseSettingValue(key: SettingKey, text: string, source: string): string | number | boolean {
  const spec: SettingSpec = SETTINGS[key];
  const bad = (why: string): ConfigError => new ConfigError(`${source}: ${JSON.stringify(text)} is not a valid ${key}: ${why}`);
  switch (spec.kind) {
    case "string":
      if (text.trim() === "") throw bad("expected a non-empty string");
      return text;
    case "boolean": {
      const t = text.trim().toLowerCase();
      if (["true", "1", "yes", "on"].includes(t)) return true;
      if (["false", "0", "no", "off"].includes(t)) return false;
      throw bad("expected true or false");
    }
    case "enum":
      if (!(spec.values ?? []).includes(text)) throw bad(`expected one of ${(spec.values ?? []).join(", ")}`);
      return text;
    case "number":
    case "integer": {
      const n = text.trim() === "" ? Number.NaN : Number(text);
      if (!Number.isFinite(n)) throw bad("expected a number");
      checkNumber(spec, n, bad);
      return n;
    }
  }
}

/** Validates an already-typed value (from the config file or a caller). */
export function checkSettingValue(key: SettingKey, value: unknown, source: string): void {
  const spec: SettingSpec = SETTINGS[key];
  const bad = (why: string): ConfigError => new ConfigError(`${source}: ${JSON.stringify(value)} is not a valid ${key}: ${why}`);
  switch (spec.kind) {
    case "string":
      if (typeof value !== "string" || value === "") throw bad("expected a non-empty string");
      return;
    case "boolean":
      if (typeof value !== "boolean") throw bad("expected true or false");
      return;
    case "enum":
      if (typeof value !== "string" || !(spec.values ?? []).includes(value)) throw bad(`expected one of ${(spec.values ?? []).join(", ")}`);
      return;
    case "number":
    case "integer":
      if (typeof value !== "number" || !Number.isFinite(value)) throw bad("expected a number");
      checkNumber(spec, value, bad);
  }
}

function checkNumber(spec: SettingSpec, n: number, bad: (why: string) => ConfigError): void {
  if (spec.kind === "integer" && !Number.isInteger(n)) throw bad("expected an integer");
  if (spec.minimum !== undefined && n < spec.minimum) throw bad(`must be >= ${spec.minimum}`);
  if (spec.exclusiveMinimum !== undefined && n <= spec.exclusiveMinimum) throw bad(`must be > ${spec.exclusiveMinimum}`);
  if (spec.maximum !== undefined && n > spec.maximum) throw bad(`must be <= ${spec.maximum}`);
}

export function defaultSettings(): Settings {
  const out: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const spec: SettingSpec = SETTINGS[key];
    if (spec.default !== undefined) out[key] = spec.default;
  }
  return out as Settings;
}
