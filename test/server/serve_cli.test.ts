// `k2 serve` end to end: the built CLI (dist/, `npm run build:ts`) on the tiny fixture checkpoint
// (real engine, tokenizer, template and parser; random weights, so the text is gibberish but
// deterministic under greedy decoding), driven by the official `openai` SDK.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = "dist/src/cli/main.js";
const TINY = "../shared/fixtures/kimi-k2-tiny";

interface Served {
  url: string; // …/v1
  proc: ChildProcess;
  stderr: string[];
  stop(): Promise<number | null>;
}

/** A long context leaves room for generations that outlast any scheduling delay of the client. */
const CONTEXT = 16384;

async function serve(extra: string[]): Promise<Served> {
  const args = [BIN, "serve", "--model", TINY, "--port", "0", "--context", String(CONTEXT), "--threads", "1", ...extra];
  const proc = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  const stderr: string[] = [];
  proc.stderr!.setEncoding("utf8").on("data", (d: string) => stderr.push(...d.split("\n").filter((l) => l !== "")));
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    proc.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.once("exit", (code) => reject(new Error(`k2 serve exited (${code}) before listening: ${stderr.join("\n")}`)));
  });
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  return {
    url,
    proc,
    stderr,
    stop: async () => {
      proc.kill("SIGTERM");
      return exited;
    },
  };
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
}

async function failure(p: Promise<unknown>): Promise<OpenAI.APIError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OpenAI.APIError) return err;
    throw err;
  }
  throw new Error("expected the request to fail");
}

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build:ts\` first`);
});

describe("k2 serve on the tiny fixture", () => {
  let s: Served;
  let client: OpenAI;
  beforeAll(async () => {
    s = await serve(["--api-key", "test-key"]);
    client = new OpenAI({ baseURL: s.url, apiKey: "test-key", maxRetries: 0 });
  });
  afterAll(async () => {
    if (s) expect(await s.stop()).toBe(0);
  });

  it("lists the model and answers greedy requests identically streamed and not", async () => {
    const models = [];
    for await (const m of client.models.list()) models.push(m);
    expect(models.map((m) => [m.id, (m as unknown as { max_model_len: number }).max_model_len])).toEqual([["kimi-k2-tiny", CONTEXT]]);

    const params = { model: "kimi-k2-tiny", messages: [{ role: "user" as const, content: "Hello" }], temperature: 0, max_tokens: 10, seed: 1 };
    const json = await client.chat.completions.create(params);
    expect(json.choices[0]!.finish_reason).toBe("length");
    expect(json.usage!.completion_tokens).toBe(10);
    expect(json.usage!.prompt_tokens).toBeGreaterThan(5);

    const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let reasoning = "";
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const c of stream) {
      const d = c.choices[0]?.delta as { content?: string | null; reasoning_content?: string } | undefined;
      text += d?.content ?? "";
      reasoning += d?.reasoning_content ?? "";
      usage = c.usage ?? usage;
    }
    const msg = json.choices[0]!.message as { content: string | null; reasoning_content?: string };
    expect(text).toBe(msg.content ?? "");
    expect(reasoning).toBe(msg.reasoning_content ?? "");
    expect(text + reasoning).not.toBe("");
    expect(usage).toMatchObject({ prompt_tokens: json.usage!.prompt_tokens, completion_tokens: 10 });
    // Same prompt again: the session's KV cache served all of it but the last position.
    expect(usage!.prompt_tokens_details!.cached_tokens).toBeGreaterThan(0);
  });

  it("accepts a dialog with tool calls and tool results", async () => {
    const r = await client.chat.completions.create({
      model: "kimi-k2-tiny",
      temperature: 0,
      max_tokens: 4,
      tools: [{ type: "function", function: { name: "read_file", description: "Read a file", parameters: { type: "object", properties: { path: { type: "string" } } } } }],
      messages: [
        { role: "user", content: "Read a.txt" },
        { role: "assistant", content: null, tool_calls: [{ id: "functions.read_file:0", type: "function", function: { name: "read_file", arguments: '{"path": "a.txt"}' } }] },
        { role: "tool", tool_call_id: "functions.read_file:0", content: "hello" },
      ],
    });
    expect(r.usage!.prompt_tokens).toBeGreaterThan(20);
    expect(r.choices[0]!.finish_reason).toMatch(/^(length|stop|tool_calls)$/);
  });

  it("queues concurrent requests and answers each as if alone", async () => {
    const params = { model: "k", messages: [{ role: "user" as const, content: "Count" }], temperature: 0, max_tokens: 24 };
    const results = await Promise.all([0, 1, 2].map(() => client.chat.completions.create(params)));
    const contents = results.map((r) => r.choices[0]!.message.content);
    expect(new Set(contents).size).toBe(1);
    expect(results.every((r) => r.usage!.completion_tokens === 24)).toBe(true);
  });

  it("cancels a generation when its client disconnects", async () => {
    const logFrom = s.stderr.length;
    const abort = new AbortController();
    const stream = await client.chat.completions.create(
      { model: "k", messages: [{ role: "user", content: "Write a very long story" }], temperature: 0, stream: true },
      { signal: abort.signal },
    );
    let got = "";
    try {
      for await (const c of stream) {
        got += c.choices[0]?.delta.content ?? "";
        if (got.length > 0) abort.abort();
      }
    } catch (err) {
      expect(err).toBeInstanceOf(OpenAI.APIUserAbortError);
    }
    const mine = () => s.stderr.slice(logFrom).find((l) => / stream prompt=/.test(l));
    await until(() => mine() !== undefined);
    const line = mine()!;
    expect(line).toMatch(/ finish=cancelled /);
    const generated = Number(/generated=(\d+)/.exec(line)![1]);
    const prompt = Number(/prompt=(\d+)/.exec(line)![1]);
    expect(generated).toBeLessThan(CONTEXT - prompt); // stopped before filling the context
    const health = (await (await fetch(s.url.replace(/\/v1$/, "/health"))).json()) as { generating: boolean };
    expect(health.generating).toBe(false);
  });

  it("answers 401 without the key and 400 naming the bad field", async () => {
    const anon = new OpenAI({ baseURL: s.url, apiKey: "nope", maxRetries: 0 });
    expect((await failure(anon.chat.completions.create({ model: "k", messages: [{ role: "user", content: "x" }] }))).status).toBe(401);
    const bad = await failure(client.chat.completions.create({ model: "k", messages: [{ role: "user", content: "x" }], top_p: 1.5 }));
    expect([bad.status, bad.param]).toEqual([400, "top_p"]);
  });
});

describe("k2 serve limits", () => {
  it("429 when the queue is full (--max-queue 0) and 413 over --max-body-mb", async () => {
    const s = await serve(["--max-queue", "0", "--max-body-mb", "1"]);
    try {
      const client = new OpenAI({ baseURL: s.url, apiKey: "x", maxRetries: 0 });
      const abort = new AbortController();
      const long = await client.chat.completions.create({ model: "k", messages: [{ role: "user", content: "Go on" }], temperature: 0, stream: true }, { signal: abort.signal });
      const it = long[Symbol.asyncIterator]();
      await it.next(); // the generation is running
      const busy = await failure(client.chat.completions.create({ model: "k", messages: [{ role: "user", content: "me too" }], max_tokens: 1 }));
      expect(busy.status).toBe(429);
      abort.abort();
      await it.return?.();
      const big = await failure(client.chat.completions.create({ model: "k", messages: [{ role: "user", content: "x".repeat(2 * 1024 * 1024) }] }));
      expect(big.status).toBe(413);
    } finally {
      expect(await s.stop()).toBe(0);
    }
  });

  it("shuts down cleanly on SIGTERM in the middle of a generation", async () => {
    const s = await serve([]);
    const client = new OpenAI({ baseURL: s.url, apiKey: "x", maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: "k", messages: [{ role: "user", content: "Go on" }], temperature: 0, stream: true });
    const it = stream[Symbol.asyncIterator]();
    await it.next();
    await it.next(); // tokens are flowing
    const code = await s.stop();
    expect(code).toBe(0);
    expect(s.stderr.filter((l) => !/ stream prompt=/.test(l))).toEqual([]);
    const rest = await (async () => {
      for (;;) if ((await it.next()).done) return "ended";
    })().catch(() => "broken");
    expect(["ended", "broken"]).toContain(rest);
  });

  it("rejects bad flags and a missing checkpoint with one clear line", () => {
    const badPort = spawnSync(process.execPath, [BIN, "serve", "--model", TINY, "--port", "http"], { encoding: "utf8" });
    expect(badPort.status).toBe(2);
    expect(badPort.stderr).toBe('k2: --port: expected a whole number, got "http"\n');
    const missing = spawnSync(process.execPath, [BIN, "serve", "--model", "/nonexistent/k2", "--port", "0"], { encoding: "utf8" });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(missing.stderr).toMatch(/^k2: .*\/nonexistent\/k2/);
  });
});
