// Reads a checkpoint's tokenizer files: `tiktoken.model` (base64 token + rank per line) and
// `tokenizer_config.json` (names of the reserved special-token ids). A directory holding only these
// two files (like ../shared/vocab/kimi-k2/) is a valid tokenizer directory.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CheckpointError } from "../errors.js";

/** Kimi reserves this many ids after the last mergeable rank for special tokens. */
export const RESERVED_SPECIAL_TOKENS = 256;


export interface TokenizerFiles {
  dir: string;
  /** The tiktoken.model text, parsed by BpeCore (and by tiktoken itself in tests). */
  ranksText: string;
  /** Number of mergeable ranks (ids 0..baseVocabSize-1). */
  baseVocabSize: number;
  /** Every reserved special id → its name (`<|reserved_token_N|>` when unnamed). */
  specialNames: Map<number, string>;
  bosToken: string | undefined;
  eosToken: string | undefined;
}

export function readTokenizerFiles(dir: string): TokenizerFiles {
  const modelPath = join(dir, "tiktoken.model");
  const configPath = join(dir, "tokenizer_config.json");
  const ranksText = readText(modelPath);
  const baseVocabSize = countRanks(modelPath, ranksText);
  const config = readJson(configPath);

  const named = new Map<number, string>();
  const decoder = config["added_tokens_decoder"];
  if (decoder !== undefined) {
    if (decoder === null || typeof decoder !== "object" || Array.isArray(decoder)) {
      throw new CheckpointError(configPath, "added_tokens_decoder must be an object of id → {content}");
    }
    for (const [key, entry] of Object.entries(decoder as Record<string, unknown>)) {
      const id = Number(key);
      const content = (entry as { content?: unknown } | null)?.content;
      if (!Number.isInteger(id) || typeof content !== "string" || content === "") {
        throw new CheckpointError(configPath, `added_tokens_decoder["${key}"] needs an integer id and a non-empty content`);
      }
      if (id < baseVocabSize || id >= baseVocabSize + RESERVED_SPECIAL_TOKENS) {
        throw new CheckpointError(
          configPath,
          `added_tokens_decoder["${key}"] (${content}) is outside the reserved special ids ${baseVocabSize}..${baseVocabSize + RESERVED_SPECIAL_TOKENS - 1}`,
        );
      }
      named.set(id, content);
    }
  }
  const specialNames = new Map<number, string>();
  const seen = new Set<string>();
  for (let id = baseVocabSize; id < baseVocabSize + RESERVED_SPECIAL_TOKENS; id++) {
    const name = named.get(id) ?? `<|reserved_token_${id}|>`;
    if (seen.has(name)) throw new CheckpointError(configPath, `special token ${name} is named twice`);
    seen.add(name);
    specialNames.set(id, name);
  }
  return {
    dir,
    ranksText,
    baseVocabSize,
    specialNames,
    bosToken: tokenName(config["bos_token"]),
    eosToken: tokenName(config["eos_token"]),
  };
}

// tokenizer_config.json writes bos/eos either as a string or as an AddedToken object.
function tokenName(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value !== null && typeof value === "object" && typeof (value as { content?: unknown }).content === "string") {
    return (value as { content: string }).content;
  }
  return undefined;
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CheckpointError(path, code === "ENOENT" ? "not found (a tokenizer directory needs tiktoken.model and tokenizer_config.json)" : `cannot read: ${(err as Error).message}`, { cause: err });
  }
}

function readJson(path: string): Record<string, unknown> {
  const text = readText(path);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(path, `invalid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new CheckpointError(path, "expected a JSON object");
  }
  return value as Record<string, unknown>;
}

// The number of ranks (non-empty lines); their shape is validated while they are parsed.
function countRanks(path: string, text: string): number {
  let count = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    if (end > start && !(end === start + 1 && text.charCodeAt(start) === 13)) count++;
    start = end + 1;
  }
  if (count < 256) throw new CheckpointError(path, `only ${count} ranks; a byte-level BPE needs at least the 256 single bytes`);
  return count;
}
