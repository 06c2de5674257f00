// The default command's flags, turned into typed settings. Parsing here is cheap and happens
// before anything heavy loads, so bad flags fail fast with exit code 2.
import { UsageError } from "../../errors.js";
import { parseSettingValue, type SettingKey, type Settings } from "../../config/settings_schema.js";
import { parseMemoryBudget } from "../engine/memory_budget_flag.js";
import { OUTPUT_FORMATS, type OutputFormat } from "../../oneshot/run_oneshot.js";

/** What commander hands the action (camelCased flag names). */
export interface RawAppFlags {
  prompt?: string | boolean;
  model?: string;
  temperature?: string;
  topP?: string;
  topK?: string;
  minP?: string;
  seed?: string;
  maxTokens?: string;
  context?: string;
  threads?: string;
  memoryBudget?: string;
  expertIo?: string;
  recordRoutes?: string;
  outputFormat?: string;
  showThinking?: boolean;
  allowTools?: string | boolean;
  yolo?: boolean;
  continue?: boolean;
  resume?: string | boolean;
  endpoint?: string;
  apiKey?: string;
}

export interface AppFlags {
  /** -p given: its text, or "" for `-p` without text (stdin is then the prompt). */
  prompt?: string;
  settings: Settings;
  outputFormat: OutputFormat;
  /** Set explicitly by a flag (text one-shots on a TTY still print nothing extra without it). */
  showThinking?: boolean;
  allowTools?: true | string[];
  continueLast: boolean;
  /** --resume without an id: true (list/pick); with an id: the id. */
  resume?: string | true;
  endpoint?: string;
  apiKey?: string;
}

const FLAG_SETTINGS: [keyof RawAppFlags, SettingKey, string][] = [
  ["model", "model", "--model"],
  ["temperature", "temperature", "--temperature"],
  ["topP", "topP", "--top-p"],
  ["topK", "topK", "--top-k"],
  ["minP", "minP", "--min-p"],
  ["seed", "seed", "--seed"],
  ["maxTokens", "maxTokens", "--max-tokens"],
  ["context", "contextSize", "--context"],
  ["threads", "threads", "--threads"],
  ["expertIo", "expertIo", "--expert-io"],
  ["recordRoutes", "recordRoutes", "--record-routes"],
];

export function parseAppFlags(raw: RawAppFlags): AppFlags {
  const settings: Record<string, unknown> = {};
  for (const [flag, key, name] of FLAG_SETTINGS) {
    const v = raw[flag];
    if (typeof v !== "string") continue;
    try {
      settings[key] = parseSettingValue(key, v, name);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  // The flag takes sizes and percentages; the setting (config file, env) stays in GB.
  const budget = parseMemoryBudget("--memory-budget", raw.memoryBudget);
  if (budget !== undefined) settings.memoryBudgetGB = budget / 1024 ** 3;
  if (raw.yolo === true) settings.permissionMode = "yolo";
  if (raw.showThinking === true) settings.showThinking = true;
  const format = raw.outputFormat ?? "text";
  if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--output-format: "${format}" is not one of ${OUTPUT_FORMATS.join(", ")}`);
  }
  if (raw.continue === true && raw.resume !== undefined) throw new UsageError("--continue and --resume cannot be used together");
  if (raw.apiKey !== undefined && raw.endpoint === undefined) throw new UsageError("--api-key needs --endpoint URL");
  if (raw.endpoint !== undefined) {
    try {
      const u = new URL(raw.endpoint);
      if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("not http(s)");
    } catch {
      throw new UsageError(`--endpoint: "${raw.endpoint}" is not an http(s) URL`);
    }
  }
  let allowTools: true | string[] | undefined;
  if (raw.allowTools === true) allowTools = true;
  else if (typeof raw.allowTools === "string") {
    const rules = raw.allowTools.split(",").map((s) => s.trim()).filter((s) => s !== "");
    allowTools = rules.length > 0 ? rules : true;
  }
  return {
    prompt: raw.prompt === true ? "" : typeof raw.prompt === "string" ? raw.prompt : undefined,
    settings: settings as Settings,
    outputFormat: format as OutputFormat,
    showThinking: raw.showThinking === true ? true : undefined,
    allowTools,
    continueLast: raw.continue === true,
    resume: raw.resume === true ? true : typeof raw.resume === "string" ? raw.resume : undefined,
    endpoint: raw.endpoint,
    apiKey: raw.apiKey,
  };
}
