// `k2 tokenize` and `k2 detokenize`.
import { UsageError } from "../../errors.js";
import { loadTokenizer } from "../../chat/tokenizer.js";
import { parseJson, readStdinText, requireDirectory, writeStdout } from "./cli_input.js";

export async function runTokenize(opts: { model: string; text?: string; allowSpecial?: boolean }): Promise<void> {
  requireDirectory(opts.model, "--model");
  const text = opts.text ?? (await readStdinText("tokenize: give --text or pipe the text"));
  const tokenizer = loadTokenizer(opts.model);
  const ids = tokenizer.encode(text, { allowSpecial: opts.allowSpecial === true });
  await writeStdout(`${JSON.stringify({ ids })}\n`);
}

export async function runDetokenize(opts: { model: string; ids?: string[] }): Promise<void> {
  requireDirectory(opts.model, "--model");
  const ids = opts.ids !== undefined ? parseIdList(opts.ids.join(" "), "--ids") : parseIdList(await readStdinText("detokenize: give --ids or pipe them"), "stdin");
  const tokenizer = loadTokenizer(opts.model);
  for (const id of ids) {
    if (id >= tokenizer.vocabSize) throw new UsageError(`token id ${id} is outside the vocabulary (0..${tokenizer.vocabSize - 1})`);
  }
  await writeStdout(tokenizer.decode(ids));
}

/** Ids as `1 2 3`, `1,2,3`, `[1,2,3]` or `{"ids": [1,2,3]}`. */
export function parseIdList(text: string, where: string): number[] {
  const trimmed = text.trim();
  let items: unknown[];
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    const value = parseJson(trimmed, where);
    const list = Array.isArray(value) ? value : (value as { ids?: unknown } | null)?.ids;
    if (!Array.isArray(list)) throw new UsageError(`${where}: expected an array of ids or {"ids": [...]}`);
    items = list;
  } else {
    items = trimmed === "" ? [] : trimmed.split(/[\s,]+/);
  }
  return items.map((item, i) => {
    const n = typeof item === "number" ? item : typeof item === "string" && /^\d+$/.test(item) ? Number(item) : NaN;
    if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`${where}: item ${i + 1} (${JSON.stringify(item)}) is not a token id`);
    return n;
  });
}
