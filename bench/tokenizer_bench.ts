// Tokenizer throughput on ~1 MB of mixed English, Chinese and code, against the `tiktoken` package
// (the official Rust core in WASM) encoding the same text in the same run, with a check that both
// produce identical ids. Also: cold load time of the 163,584-rank vocabulary, decode and
// streaming-decode throughput.
// Run: `npm run bench` (through bench/run.ts), or `node dist/bench/tokenizer_bench.js` alone.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { Tiktoken } from "tiktoken";
import { K2Tokenizer } from "../src/chat/tokenizer.js";
import { StreamDecoder } from "../src/chat/stream_decoder.js";
import { loadChatTemplate } from "../src/chat/chat_template.js";
import { splitForEncoding } from "../src/chat/encode_chunks.js";
import type { ChatMessage } from "../src/chat/messages.js";
import { encodePrompt } from "../src/chat/prompt_encoder.js";
import { K2_PAT_STR } from "../src/chat/k2_pretokenizer.js";
import { readTokenizerFiles } from "../src/chat/tokenizer_files.js";

const VOCAB = "../shared/vocab/kimi-k2";
const TARGET_BYTES = 1 << 20;
const ROUNDS = 3;

const CHINESE = [
  "月之暗面发布了Kimi K2 Thinking模型，支持256K上下文。",
  "混合专家模型每层有384个专家，每个词元只激活其中8个和一个共享专家。",
  "多头潜在注意力把键值缓存压缩成每个词元576个数，显著降低了显存占用。",
  "在苹果芯片上，统一内存让我们可以直接把权重映射到GPU可见的缓冲区。",
  "请把这个函数改写成异步版本，并为边界情况补充单元测试。",
  "量化后的专家权重采用每32个元素一组的对称INT4格式存储。",
];

// Deterministic text: English prose (the shared docs), code (this repo's sources and the
// TypeScript compiler's), Chinese sentences, interleaved paragraph by paragraph.
export function mixedText(bytes = TARGET_BYTES): string {
  const english = readFileSync("../shared/docs/k2-format.md", "utf8") + readFileSync("../shared/docs/architecture.md", "utf8");
  const code = readFileSync("node_modules/typescript/lib/typescript.js", "utf8").slice(2_000_000, 2_400_000);
  const englishParas = english.split(/\n\n+/);
  const codeParas = code.split(/\n\n+/);
  let seed = 0x2545f491;
  const next = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const parts: string[] = [];
  let size = 0;
  while (size < bytes) {
    const kind = next(3);
    let p: string;
    if (kind === 0) p = englishParas[next(englishParas.length)]!;
    else if (kind === 1) p = codeParas[next(codeParas.length)]!;
    else p = Array.from({ length: 1 + next(4) }, () => CHINESE[next(CHINESE.length)]).join("");
    parts.push(p);
    size += Buffer.byteLength(p) + 2;
  }
  return parts.join("\n\n");
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

export interface TokenizerBenchResult {
  inputBytes: number;
  tokens: number;
  loadMs: number;
  oursMBps: number;
  tiktokenMBps: number;
  ratio: number;
  decodeMBps: number;
  streamDecodeMBps: number;
  /** Our ids equal tiktoken's for the whole text. */
  identical: boolean;
  promptTokens: number;
  /** Safe encoding of the 200-message conversation, cold and repeated. */
  promptFirstMs: number;
  promptAgainMs: number;
}

export async function run(): Promise<TokenizerBenchResult> {
  const text = mixedText();
  const mb = Buffer.byteLength(text) / 1e6;

  let tok: K2Tokenizer | undefined;
  const loadMs = time(() => {
    tok = new K2Tokenizer(readTokenizerFiles(VOCAB));
  });
  const ours = tok!;
  const files = readTokenizerFiles(VOCAB);
  const reference = new Tiktoken(files.ranksText, Object.fromEntries([...files.specialNames].map(([id, n]) => [n, id])), K2_PAT_STR);

  // Both sides encode the chunks Kimi's tokenizer cuts a 1 MB text into, so the ids must agree.
  const chunks = splitForEncoding(text);
  let ids: number[] = [];
  let refIds: number[] = [];
  const oursMs: number[] = [];
  const refMs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate so neither side always runs on a warmer cache. Our first round starts with an empty
    // piece cache, later ones reuse it (as a long session does); the median is reported.
    refMs.push(
      time(() => {
        refIds = [];
        for (const c of chunks) refIds.push(...reference.encode_ordinary(c));
      }),
    );
    oursMs.push(time(() => (ids = ours.encodeOrdinary(text))));
  }
  const identical = ids.length === refIds.length && ids.every((id, i) => id === refIds[i]);
  const decodeMs = median(Array.from({ length: ROUNDS }, () => time(() => ours.decode(ids))));
  const streamMs = time(() => {
    const dec = new StreamDecoder(ours);
    for (const id of ids) dec.push(id);
    dec.flush();
  });
  reference.free();

  // A 200-message conversation of ~400 kB, encoded safely (render + markup/content split + BPE)
  // the first time and again (as on the next turn, when only new messages are new).
  const template = loadChatTemplate(VOCAB);
  const messages: ChatMessage[] = [];
  for (let i = 0; i < 200; i++) {
    const content = text.slice(i * 2000, (i + 1) * 2000);
    messages.push(i % 2 === 0 ? { role: "user", content } : { role: "assistant", content });
  }
  const conversation = { messages, addGenerationPrompt: true };
  let promptTokens = 0;
  const promptFirstMs = time(() => (promptTokens = encodePrompt(ours, template, conversation).length));
  const promptAgainMs = median(Array.from({ length: ROUNDS }, () => time(() => encodePrompt(ours, template, conversation))));

  const result: TokenizerBenchResult = {
    inputBytes: Buffer.byteLength(text),
    tokens: ids.length,
    loadMs,
    oursMBps: mb / (median(oursMs) / 1000),
    tiktokenMBps: mb / (median(refMs) / 1000),
    ratio: median(refMs) / median(oursMs),
    decodeMBps: mb / (decodeMs / 1000),
    streamDecodeMBps: mb / (streamMs / 1000),
    identical,
    promptTokens,
    promptFirstMs,
    promptAgainMs,
  };
  const f = (x: number): string => x.toFixed(2);
  console.log(`tokenizer: ${f(mb)} MB mixed English/Chinese/code → ${result.tokens} tokens (${f(result.inputBytes / result.tokens)} bytes/token)`);
  console.log(`  vocabulary load (163,584 ranks, cold): ${result.loadMs.toFixed(0)} ms`);
  console.log(`  ids identical to tiktoken's: ${identical ? "yes" : "NO"}`);
  console.log(`  encode: k2 ${f(result.oursMBps)} MB/s vs tiktoken package ${f(result.tiktokenMBps)} MB/s → ratio ${f(result.ratio)} (tiktoken = official Rust core in WASM)`);
  console.log(`  decode: ${f(result.decodeMBps)} MB/s; streaming decode (token by token): ${f(result.streamDecodeMBps)} MB/s`);
  console.log(
    `  chat prompt (200 messages, ${result.promptTokens} tokens, Jinja template): first ${result.promptFirstMs.toFixed(0)} ms, again ${result.promptAgainMs.toFixed(0)} ms`,
  );
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await run();
