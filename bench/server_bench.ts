// Server overhead: the same turns run directly on a ChatModel and through `k2 serve`'s HTTP layer
// (in-process server on loopback; client and server share this process, so both sides' CPU is
// counted). Two models:
//  - a zero-cost synthetic model that yields N one-token content events at once: isolates the
//    HTTP + JSON + SSE cost per request and per streamed token (µs);
//  - the real engine on the tiny fixture checkpoint (greedy, 64 tokens): end-to-end wall time via
//    the server relative to direct LocalChatModel use (ratio), streamed (SSE, read by our remote
//    client) and not.
// The per-token overhead is also put against a decode step of the real model at llama.cpp's
// reference speed on this machine (tg128 43.0 tok/s → 23.3 ms/token).
// Run: `npm run bench -- server`, or `node dist/bench/server_bench.js` alone.
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { spawn, type ChildProcess } from "node:child_process";
import type { ChatModel, ChatRequest } from "../src/chat/chat_model.js";
import type { ChatEvent } from "../src/chat/events.js";
import type { ChatMessage } from "../src/chat/messages.js";
import { OpenAIChatModel } from "../src/remote/openai_chat_model.js";
import { startK2Server, type K2Server } from "../src/server/k2_server.js";
import { openLocalChatModel } from "../src/server/local_model.js";

const TINY = "../shared/fixtures/kimi-k2-tiny";
const REFERENCE_DECODE_MS = 1000 / 43.0;
const SHORT = 1;
const LONG = 256;
const REPS = 40;
const TINY_TOKENS = 64;
const TINY_REPS = 15;

/** Yields `maxTokens` one-word content events and no other work. */
class SyntheticModel implements ChatModel {
  readonly name = "synthetic";
  readonly contextWindow = 1 << 20;
  async countTokens(messages: ChatMessage[]): Promise<number> {
    return messages.length * 8;
  }
  async *stream(request: ChatRequest): AsyncIterable<ChatEvent> {
    const n = request.sampling.maxTokens ?? 1;
    for (let i = 0; i < n; i++) yield { type: "content", text: " tok" };
    yield {
      type: "stats",
      stats: { promptTokens: 8, reusedTokens: 0, prefilledTokens: 8, generatedTokens: n, prefillMs: 0, decodeMs: 0, timeToFirstTokenMs: 0, prefillTokPerS: 0, decodeTokPerS: 0, finishReason: "length" },
    };
    yield { type: "end", reason: "length" };
  }
  dispose(): void {}
}

type Path = "direct" | "http-json" | "http-sse";

/** Best of the repetitions: on a shared machine the minimum is the cost itself, the rest is waiting for a core. */
function best(xs: number[]): number {
  return Math.min(...xs);
}

async function drain(stream: AsyncIterable<ChatEvent>): Promise<number> {
  let n = 0;
  for await (const e of stream) if (e.type === "content" || e.type === "reasoning") n++;
  return n;
}

async function once(path: Path, model: ChatModel, server: K2Server, remote: OpenAIChatModel, request: ChatRequest): Promise<number> {
  const t0 = performance.now();
  if (path === "direct") await drain(model.stream(request));
  else if (path === "http-sse") await drain(remote.stream(request));
  else {
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: request.messages, temperature: request.sampling.temperature, max_tokens: request.sampling.maxTokens }),
    });
    if (!res.ok) throw new Error(`server answered ${res.status}: ${await res.text()}`);
    await res.json();
  }
  return performance.now() - t0;
}

async function timeMs(path: Path, model: ChatModel, server: K2Server, remote: OpenAIChatModel, request: ChatRequest, reps: number): Promise<number> {
  await once(path, model, server, remote, request); // warm-up
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) xs.push(await once(path, model, server, remote, request));
  return best(xs);
}

async function withServer<T>(model: ChatModel, body: (server: K2Server, remote: OpenAIChatModel) => Promise<T>): Promise<T> {
  const server = await startK2Server({ model, host: "127.0.0.1", port: 0 });
  const remote = new OpenAIChatModel({ endpoint: `${server.url}/v1`, model: model.name, contextWindow: model.contextWindow });
  try {
    return await body(server, remote);
  } finally {
    await server.close();
  }
}

export interface ServerBenchResult {
  synthetic: Record<Path, { shortMs: number; longMs: number; perTokenUs: number }>;
  requestOverheadMs: { json: number; sse: number };
  tokenOverheadUs: { json: number; sse: number };
  tokenOverheadVsReferenceDecode: number;
  tiny: { directMs: number; jsonMs: number; sseMs: number; jsonRatio: number; sseRatio: number };
}

export async function run(): Promise<ServerBenchResult> {
  const messages: ChatMessage[] = [{ role: "user", content: "Benchmark the server." }];
  const synthetic = new SyntheticModel();
  const paths: Path[] = ["direct", "http-json", "http-sse"];
  const syn = {} as ServerBenchResult["synthetic"];
  await withServer(synthetic, async (server, remote) => {
    for (const p of paths) {
      const shortMs = await timeMs(p, synthetic, server, remote, { messages, sampling: { maxTokens: SHORT } }, REPS);
      const longMs = await timeMs(p, synthetic, server, remote, { messages, sampling: { maxTokens: LONG } }, REPS);
      syn[p] = { shortMs, longMs, perTokenUs: ((longMs - shortMs) / (LONG - SHORT)) * 1000 };
    }
  });
  const requestOverheadMs = { json: syn["http-json"].shortMs - syn.direct.shortMs, sse: syn["http-sse"].shortMs - syn.direct.shortMs };
  const tokenOverheadUs = { json: syn["http-json"].perTokenUs - syn.direct.perTokenUs, sse: syn["http-sse"].perTokenUs - syn.direct.perTokenUs };

  console.log(`synthetic zero-cost model, best of ${REPS} (client and server in one process; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores):`);
  for (const p of paths) {
    console.log(`  ${p.padEnd(9)} ${SHORT} token ${syn[p].shortMs.toFixed(3)} ms   ${LONG} tokens ${syn[p].longMs.toFixed(3)} ms   ${syn[p].perTokenUs.toFixed(2)} µs/token`);
  }
  console.log(`  server overhead per request: ${requestOverheadMs.json.toFixed(3)} ms (JSON), ${requestOverheadMs.sse.toFixed(3)} ms (SSE)`);
  console.log(`  server overhead per token:   ${tokenOverheadUs.json.toFixed(2)} µs (JSON), ${tokenOverheadUs.sse.toFixed(2)} µs (SSE)`);
  const vsDecode = tokenOverheadUs.sse / 1000 / REFERENCE_DECODE_MS;
  console.log(`  SSE per-token overhead / one K2 decode step at 43.0 tok/s: ${(vsDecode * 100).toFixed(3)} %`);

  // The served side runs as a real `k2 serve` process, as deployed: an in-process client would
  // compete with the server's event loop for the same thread and inflate the streamed path.
  const request: ChatRequest = { messages, sampling: { temperature: 0, maxTokens: TINY_TOKENS } };
  const opened = await openLocalChatModel(TINY, { threads: 1, contextSize: 1024 });
  const child = await spawnServe();
  let tiny: ServerBenchResult["tiny"];
  try {
    const server = { url: child.url } as K2Server;
    const remote = new OpenAIChatModel({ endpoint: `${child.url}/v1`, model: "kimi-k2-tiny", contextWindow: 1024 });
    // Interleaved, so the three paths see the same machine load; warm-up round first.
    const times: Record<Path, number[]> = { direct: [], "http-json": [], "http-sse": [] };
    for (let rep = 0; rep <= TINY_REPS; rep++) {
      for (const p of paths) {
        const ms = await once(p, p === "direct" ? opened.model : remote, server, remote, request);
        if (rep > 0) times[p].push(ms);
      }
    }
    const directMs = best(times.direct);
    const jsonMs = best(times["http-json"]);
    const sseMs = best(times["http-sse"]);
    tiny = { directMs, jsonMs, sseMs, jsonRatio: jsonMs / directMs, sseRatio: sseMs / directMs };
  } finally {
    child.proc.kill("SIGTERM");
    opened.close();
  }
  console.log(`tiny fixture, real engine (1 thread), greedy ${TINY_TOKENS} tokens, best of ${TINY_REPS}; server = a \`k2 serve\` child process:`);
  console.log(`  direct LocalChatModel ${tiny.directMs.toFixed(2)} ms`);
  console.log(`  via server, JSON      ${tiny.jsonMs.toFixed(2)} ms   ratio ${tiny.jsonRatio.toFixed(3)}x direct`);
  console.log(`  via server, SSE       ${tiny.sseMs.toFixed(2)} ms   ratio ${tiny.sseRatio.toFixed(3)}x direct`);
  return { synthetic: syn, requestOverheadMs, tokenOverheadUs, tokenOverheadVsReferenceDecode: vsDecode, tiny };
}

/** Starts the built CLI's `k2 serve` on the tiny fixture and waits for its address. */
async function spawnServe(): Promise<{ url: string; proc: ChildProcess }> {
  const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
  const proc = spawn(process.execPath, [main, "serve", "--model", TINY, "--port", "0", "--context", "1024", "--threads", "1"], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  proc.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    proc.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      const m = /listening on (http:\/\/\S+)\/v1/.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.once("exit", (code) => reject(new Error(`k2 serve exited (${code}): ${err}`)));
  });
  return { url, proc };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await run();
}
