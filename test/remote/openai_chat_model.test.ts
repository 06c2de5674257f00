// The remote ChatModel against a local server replaying recorded vLLM-style SSE streams: both
// reasoning field names, tool-call deltas split across chunks, malformed arguments, broken and
// erroring streams, HTTP errors, retries, cancellation, and what it sends.
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { ChatEvent } from "../../src/chat/events.js";
import type { ChatMessage } from "../../src/chat/messages.js";
import { createRemoteChatModel } from "../../src/remote/create_remote_chat_model.js";
import { OpenAIChatModel } from "../../src/remote/openai_chat_model.js";
import { RemoteModelError } from "../../src/remote/remote_error.js";
import { recordedStream, startSseReplayServer, type ReplayReply, type SseReplayServer } from "../helpers/sse_replay_server.js";

const servers: SseReplayServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function replay(replies: ReplayReply[], models: Record<string, unknown>[] = []): Promise<SseReplayServer> {
  const s = await startSseReplayServer(replies, models);
  servers.push(s);
  return s;
}

function remote(server: { url: string }, extra: Partial<ConstructorParameters<typeof OpenAIChatModel>[0]> = {}): OpenAIChatModel {
  return new OpenAIChatModel({ endpoint: `${server.url}/v1`, model: "moonshotai/Kimi-K2-Thinking", contextWindow: 262144, retry: { baseDelayMs: 1 }, ...extra });
}

async function collect(stream: AsyncIterable<ChatEvent>): Promise<ChatEvent[]> {
  const out: ChatEvent[] = [];
  for await (const e of stream) out.push(e);
  return out;
}

const hello: ChatMessage[] = [{ role: "user", content: "你好" }];
const joined = (events: ChatEvent[], type: "reasoning" | "content") =>
  events
    .filter((e): e is Extract<ChatEvent, { type: typeof type }> => e.type === type)
    .map((e) => e.text)
    .join("");

describe("OpenAIChatModel over recorded vLLM streams", () => {
  it.each(["vllm_reasoning_content.sse", "vllm_reasoning_field.sse"])("streams reasoning and content from %s", async (file) => {
    const server = await replay([{ kind: "stream", body: await recordedStream(file), pieceBytes: 5 }]);
    const events = await collect(remote(server).stream({ messages: hello, sampling: {} }));
    expect(joined(events, "reasoning")).toBe("The user greets me in Chinese; answer briefly.");
    expect(joined(events, "content")).toBe("你好！I'm Kimi 🌙.");
    // Reasoning streams before content, as it arrives, one event per delta.
    expect(events.filter((e) => e.type === "reasoning").length).toBe(5);
    expect(events.findIndex((e) => e.type === "content")).toBeGreaterThan(events.findLastIndex((e) => e.type === "reasoning"));
    const stats = events.at(-2);
    expect(stats?.type).toBe("stats");
    if (stats?.type !== "stats") return;
    expect(stats.stats).toMatchObject({ promptTokens: 27, generatedTokens: 14, finishReason: "stop" });
    expect(stats.stats.reusedTokens).toBe(file === "vllm_reasoning_content.sse" ? 16 : 0);
    expect(events.at(-1)).toEqual({ type: "end", reason: "stop" });
  });

  it("assembles parallel tool calls split across chunks, keeping the server's ids", async () => {
    const server = await replay([{ kind: "stream", body: await recordedStream("vllm_tool_calls_split.sse"), pieceBytes: 11 }]);
    const messages: ChatMessage[] = [
      { role: "user", content: "weather?" },
      { role: "assistant", content: "", tool_calls: [{ id: "functions.a:0", type: "function", function: { name: "a", arguments: "{}" } }, { id: "functions.a:1", type: "function", function: { name: "a", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "functions.a:0", name: "a", content: "x" },
      { role: "tool", tool_call_id: "functions.a:1", name: "a", content: "y" },
    ];
    const events = await collect(remote(server).stream({ messages, sampling: {} }));
    const starts = events.filter((e) => e.type === "tool_call_start");
    // Event indices continue across the dialog, like the local model's.
    expect(starts).toEqual([
      { type: "tool_call_start", index: 2, id: "functions.get_weather:2", name: "get_weather" },
      { type: "tool_call_start", index: 3, id: "functions.get_weather:3", name: "get_weather" },
    ]);
    const deltas = events.filter((e) => e.type === "tool_call_delta");
    expect(deltas.filter((d) => d.index === 2).map((d) => d.text)).toEqual(['{"city', '": "Par', 'is", "unit": "c', 'elsius"}']);
    const ends = events.filter((e) => e.type === "tool_call_end");
    expect(ends.map((e) => [e.id, e.arguments, e.raw])).toEqual([
      ["functions.get_weather:2", { city: "Paris", unit: "celsius" }, '{"city": "Paris", "unit": "celsius"}'],
      ["functions.get_weather:3", { city: "北京" }, '{"city": "北京"}'],
    ]);
    expect(joined(events, "reasoning")).toBe("I should check both cities.");
    expect(events.at(-1)).toEqual({ type: "end", reason: "tool_calls" });
  });

  it("reports malformed tool-call arguments as tool_call_error", async () => {
    const server = await replay([{ kind: "stream", body: await recordedStream("vllm_tool_call_malformed.sse") }]);
    const events = await collect(remote(server).stream({ messages: hello, sampling: {} }));
    const err = events.find((e) => e.type === "tool_call_error");
    expect(err).toMatchObject({ id: "functions.read_file:0", name: "read_file", raw: '{"path": "a.txt', message: expect.stringMatching(/not valid JSON/) });
    expect(events.some((e) => e.type === "tool_call_end")).toBe(false);
  });

  it.each([
    ["closed cleanly before finish_reason", undefined, /the response stream ended before the turn finished/],
    ["cut off mid-event (connection reset)", 700, /the response stream broke: .*other side closed/],
  ])("turns a stream %s into a clear error", async (_label, cut, message) => {
    const body = await recordedStream("vllm_broken.sse");
    const server = await replay([cut === undefined ? { kind: "stream", body } : { kind: "stream", body, cutAfterBytes: cut }]);
    const seen: ChatEvent[] = [];
    const run = async () => {
      for await (const e of remote(server).stream({ messages: hello, sampling: {} })) seen.push(e);
    };
    const err = await run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteModelError);
    expect((err as Error).message).toMatch(message);
    expect(seen.some((e) => e.type === "reasoning")).toBe(true);
    expect(seen.some((e) => e.type === "end")).toBe(false);
    // Output had streamed: the request is not silently replayed.
    expect(server.requests.length).toBe(1);
  });

  it("retries a stream that broke before any output, then streams the retry", async () => {
    const body = await recordedStream("vllm_reasoning_content.sse");
    const server = await replay([
      { kind: "stream", body, cutAfterBytes: 120 }, // dies inside the role chunk
      { kind: "stream", body: await recordedStream("vllm_broken.sse").then((b) => b.slice(0, b.indexOf("\n\n") + 2)) }, // role chunk only, then a clean close
      { kind: "stream", body },
    ]);
    const events = await collect(remote(server).stream({ messages: hello, sampling: {} }));
    expect(joined(events, "content")).toBe("你好！I'm Kimi 🌙.");
    expect(server.requests.length).toBe(3);
  });

  it("surfaces an error the server reports mid-stream", async () => {
    const server = await replay([{ kind: "stream", body: await recordedStream("vllm_error_event.sse") }]);
    await expect(collect(remote(server).stream({ messages: hello, sampling: {} }))).rejects.toThrow(/mid-stream: EngineCore encountered an issue/);
  });
});

describe("servers that ignore stream: true", () => {
  it("turns a whole chat.completion JSON answer into the same events", async () => {
    const completion = {
      id: "chatcmpl-1",
      object: "chat.completion",
      choices: [
        {
          index: 0,
          finish_reason: "tool_calls",
          message: {
            role: "assistant",
            content: "Checking.",
            reasoning: "Need the file.",
            tool_calls: [{ id: "functions.read_file:0", type: "function", function: { name: "read_file", arguments: '{"path": "a.txt"}' } }],
          },
        },
      ],
      usage: { prompt_tokens: 50, completion_tokens: 20, total_tokens: 70 },
    };
    const server = await replay([{ kind: "status", status: 200, body: JSON.stringify(completion) }]);
    const events = await collect(remote(server).stream({ messages: hello, sampling: {} }));
    expect(events.filter((e) => e.type !== "stats")).toEqual([
      { type: "reasoning", text: "Need the file." },
      { type: "content", text: "Checking." },
      { type: "tool_call_start", index: 0, id: "functions.read_file:0", name: "read_file" },
      { type: "tool_call_delta", index: 0, id: "functions.read_file:0", text: '{"path": "a.txt"}' },
      { type: "tool_call_end", index: 0, id: "functions.read_file:0", name: "read_file", arguments: { path: "a.txt" }, raw: '{"path": "a.txt"}' },
      { type: "end", reason: "tool_calls" },
    ]);
    expect(events.find((e) => e.type === "stats")).toMatchObject({ stats: { promptTokens: 50, generatedTokens: 20 } });
  });
});

describe("HTTP errors and retries", () => {
  it("does not retry a 400 and quotes the server's message", async () => {
    const server = await replay([{ kind: "status", status: 400, body: JSON.stringify({ error: { message: "max_tokens is too large" } }) }]);
    const err = await collect(remote(server).stream({ messages: hello, sampling: {} })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteModelError);
    expect((err as RemoteModelError).status).toBe(400);
    expect((err as Error).message).toBe(`${server.url}/v1: HTTP 400 Bad Request: max_tokens is too large`);
    expect(server.requests.length).toBe(1);
  });

  it("hints at --api-key on 401", async () => {
    const server = await replay([{ kind: "status", status: 401, body: JSON.stringify({ error: { message: "invalid API key" } }) }]);
    await expect(collect(remote(server).stream({ messages: hello, sampling: {} }))).rejects.toThrow(/HTTP 401 Unauthorized: invalid API key \(check --api-key\)/);
  });

  it("retries 503 and 429 (honouring Retry-After) before anything streamed, then succeeds", async () => {
    const server = await replay([
      { kind: "status", status: 503, body: "overloaded" },
      { kind: "status", status: 429, body: JSON.stringify({ error: { message: "slow down" } }), headers: { "retry-after": "0" } },
      { kind: "stream", body: await recordedStream("vllm_reasoning_field.sse") },
    ]);
    const events = await collect(remote(server).stream({ messages: hello, sampling: {} }));
    expect(joined(events, "content")).toBe("你好！I'm Kimi 🌙.");
    expect(server.requests.length).toBe(3);
    expect(server.requests[2]!.body).toEqual(server.requests[0]!.body);
  });

  it("gives up after maxRetries with the last status", async () => {
    const busy: ReplayReply = { kind: "status", status: 503, body: JSON.stringify({ error: { message: "no capacity" } }) };
    const server = await replay([busy, busy, busy]);
    await expect(collect(remote(server, { retry: { maxRetries: 2, baseDelayMs: 1 } }).stream({ messages: hello, sampling: {} }))).rejects.toThrow(
      /HTTP 503 Service Unavailable: no capacity after 3 attempts/,
    );
    expect(server.requests.length).toBe(3);
  });

  it("retries a refused connection, then reports it", async () => {
    const port = await freePort();
    const model = remote({ url: `http://127.0.0.1:${port}` }, { retry: { maxRetries: 2, baseDelayMs: 1 } });
    await expect(collect(model.stream({ messages: hello, sampling: {} }))).rejects.toThrow(/cannot connect \(ECONNREFUSED\) after 3 attempts; is the server running\?/);
  });

  it("keeps waiting while the server sends keep-alive comments (a long prefill)", async () => {
    const server = await replay([{ kind: "stream", body: await recordedStream("vllm_reasoning_field.sse"), pieceBytes: 200, keepAlives: { count: 6, everyMs: 40 } }]);
    const events = await collect(remote(server, { idleTimeoutMs: 150 }).stream({ messages: hello, sampling: {} }));
    expect(joined(events, "content")).toBe("你好！I'm Kimi 🌙.");
  });

  it("gives up on a stream that goes silent", async () => {
    const server = await replay([{ kind: "silent" }]);
    await expect(collect(remote(server, { idleTimeoutMs: 100 }).stream({ messages: hello, sampling: {} }))).rejects.toThrow(/sent nothing for 0 s/);
  });
});

describe("cancellation", () => {
  it("ends with stats and end(cancelled) when the signal aborts mid-stream, and closes the connection", async () => {
    const server = await replay([{ kind: "stream", body: await recordedStream("vllm_reasoning_content.sse"), pieceBytes: 40, pieceDelayMs: 2 }]);
    const abort = new AbortController();
    const events: ChatEvent[] = [];
    for await (const e of remote(server).stream({ messages: hello, sampling: {} }, abort.signal)) {
      events.push(e);
      if (e.type === "reasoning") abort.abort();
    }
    expect(events.at(-2)).toMatchObject({ type: "stats", stats: { finishReason: "cancelled" } });
    expect(events.at(-1)).toEqual({ type: "end", reason: "cancelled" });
    expect(events.some((e) => e.type === "content")).toBe(false);
    await until(() => server.clientClosed === 1);
  });

  it("ends cancelled without a request when already aborted", async () => {
    const server = await replay([]);
    const abort = new AbortController();
    abort.abort();
    const events = await collect(remote(server).stream({ messages: hello, sampling: {} }, abort.signal));
    expect(events.map((e) => e.type)).toEqual(["stats", "end"]);
    expect(server.requests.length).toBe(0);
  });
});

describe("what it sends", () => {
  it("posts an OpenAI body: messages with reasoning and tool calls, tools, sampling, auth", async () => {
    const server = await replay([{ kind: "stream", body: await recordedStream("vllm_reasoning_field.sse") }]);
    const messages: ChatMessage[] = [
      { role: "system", content: "You are Kimi." },
      { role: "user", content: "read a.txt" },
      { role: "assistant", content: "", reasoning_content: "Read it.", tool_calls: [{ id: "functions.read_file:0", type: "function", function: { name: "read_file", arguments: { path: "a.txt" } } }] },
      { role: "tool", tool_call_id: "functions.read_file:0", name: "read_file", content: "hello" },
    ];
    const tools = [{ type: "function" as const, function: { name: "read_file", description: "Read", parameters: { type: "object" } } }];
    await collect(remote(server, { apiKey: "sk-test" }).stream({ messages, tools, sampling: { temperature: 0.6, topP: 0.95, maxTokens: 100, seed: 7, topK: 0, stopIds: [163586] } }));
    const req = server.requests[0]!;
    expect(req.headers.authorization).toBe("Bearer sk-test");
    expect(req.body).toEqual({
      model: "moonshotai/Kimi-K2-Thinking",
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.6,
      top_p: 0.95,
      max_tokens: 100,
      seed: 7,
      tools,
      messages: [
        { role: "system", content: "You are Kimi." },
        { role: "user", content: "read a.txt" },
        { role: "assistant", content: null, reasoning_content: "Read it.", tool_calls: [{ id: "functions.read_file:0", type: "function", function: { name: "read_file", arguments: '{"path":"a.txt"}' } }] },
        { role: "tool", tool_call_id: "functions.read_file:0", name: "read_file", content: "hello" },
      ],
    });
  });

  it("estimates prompt tokens (about 4 ASCII characters or 1.5 CJK characters per token)", async () => {
    const model = remote({ url: "http://127.0.0.1:9" });
    const en = await model.countTokens([{ role: "user", content: "a".repeat(4000) }]);
    const zh = await model.countTokens([{ role: "user", content: "字".repeat(1500) }]);
    expect(en).toBeGreaterThan(1000);
    expect(en).toBeLessThan(1030);
    expect(zh).toBeGreaterThan(1000);
    expect(zh).toBeLessThan(1030);
  });
});

describe("createRemoteChatModel", () => {
  it("takes the model id and context window from GET /models when not given", async () => {
    const server = await replay([], [{ id: "moonshotai/Kimi-K2-Thinking", object: "model", max_model_len: 131072 }]);
    for (const endpoint of [server.url, `${server.url}/`, `${server.url}/v1`, `${server.url}/v1/chat/completions`]) {
      const model = await createRemoteChatModel({ endpoint });
      expect(model.name).toBe("moonshotai/Kimi-K2-Thinking");
      expect(model.contextWindow).toBe(131072);
    }
  });

  it("keeps a given model and falls back to K2's window when the server does not list it", async () => {
    const server = await replay([], [{ id: "other" }]);
    const model = await createRemoteChatModel({ endpoint: server.url, model: "kimi-k2-thinking" });
    expect(model.name).toBe("kimi-k2-thinking");
    expect(model.contextWindow).toBe(262144);
  });

  it("rejects bad endpoints and unreachable servers with clear messages", async () => {
    await expect(createRemoteChatModel({ endpoint: "localhost:8000" })).rejects.toThrow(/--endpoint: expected an http:\/\/ or https:\/\/ URL/);
    await expect(createRemoteChatModel({ endpoint: "not a url" })).rejects.toThrow(/--endpoint: "not a url" is not a URL/);
    const port = await freePort();
    await expect(createRemoteChatModel({ endpoint: `http://127.0.0.1:${port}` })).rejects.toThrow(/cannot connect \(ECONNREFUSED\)/);
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}
