// The server's HTTP behaviour over a scripted ChatModel, driven by the official `openai` SDK:
// response shapes (JSON and SSE), reasoning under both field names, tool round trips, sampling and
// stop strings, queueing, disconnect cancellation and the 400/401/404/413/429 answers.
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import type { ChatEvent } from "../../src/chat/events.js";
import { startK2Server, type K2Server, type K2ServerOptions } from "../../src/server/k2_server.js";
import { GatedChatModel, toolCallEvents, type GatedTurn } from "./gated_chat_model.js";

const servers: K2Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serve(model: GatedChatModel, opts: Partial<K2ServerOptions> = {}): Promise<{ server: K2Server; client: OpenAI }> {
  const server = await startK2Server({ model, host: "127.0.0.1", port: 0, ...opts });
  servers.push(server);
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: opts.apiKey ?? "unused", maxRetries: 0 });
  return { server, client };
}

const text = (t: string): ChatEvent => ({ type: "content", text: t });
const thought = (t: string): ChatEvent => ({ type: "reasoning", text: t });
const weatherTool: OpenAI.Chat.ChatCompletionTool = {
  type: "function",
  function: { name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
};

async function statusOf(p: Promise<unknown>): Promise<{ status: number | undefined; message: string; param: string | null | undefined }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OpenAI.APIError) return { status: err.status, message: err.message, param: err.param };
    throw err;
  }
  throw new Error("expected the request to fail");
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

describe("POST /v1/chat/completions (non-streaming)", () => {
  it("returns reasoning under both names, content, usage and finish_reason", async () => {
    const model = new GatedChatModel([{ before: [thought("Think "), thought("hard."), text("Hello"), text(" world")] }]);
    const { client } = await serve(model);
    const r = await client.chat.completions.create({ model: "kimi-k2", messages: [{ role: "user", content: "hi" }] });
    const msg = r.choices[0]!.message as OpenAI.Chat.ChatCompletionMessage & { reasoning_content?: string; reasoning?: string };
    expect(r.object).toBe("chat.completion");
    expect(r.id).toMatch(/^chatcmpl-/);
    expect(r.model).toBe("kimi-k2");
    expect(msg.content).toBe("Hello world");
    expect(msg.reasoning_content).toBe("Think hard.");
    expect(msg.reasoning).toBe("Think hard.");
    expect(msg.tool_calls).toBeUndefined();
    expect(r.choices[0]!.finish_reason).toBe("stop");
    const prompt = await model.countTokens([{ role: "user", content: "hi" }]);
    expect(r.usage).toMatchObject({ prompt_tokens: prompt, completion_tokens: 4, total_tokens: prompt + 4, prompt_tokens_details: { cached_tokens: 3 } });
  });

  it("maps sampling fields onto the request and caps max_tokens at the context window", async () => {
    const model = new GatedChatModel([{ before: [text("a")] }, { before: [text("b")] }], 1000);
    const { client } = await serve(model);
    await client.chat.completions.create({
      model: "k",
      messages: [{ role: "system", content: "be brief" }, { role: "user", content: [{ type: "text", text: "part one " }, { type: "text", text: "part two" }] }],
      temperature: 0.3,
      top_p: 0.9,
      max_tokens: 17,
      seed: 42,
      presence_penalty: 0.5,
    });
    expect(model.started[0]!.request.sampling).toEqual({ temperature: 0.3, topP: 0.9, maxTokens: 17, seed: 42, presencePenalty: 0.5 });
    expect(model.started[0]!.request.messages).toEqual([
      { role: "system", content: "be brief" },
      { role: "user", content: [{ type: "text", text: "part one " }, { type: "text", text: "part two" }] },
    ]);
    await client.chat.completions.create({ model: "k", messages: [{ role: "user", content: "x" }] });
    const promptTokens = await model.countTokens([{ role: "user", content: "x" }]);
    expect(model.started[1]!.request.sampling.maxTokens).toBe(1000 - promptTokens);
  });

  it("ends the answer at a stop string, even one split across chunks, and does not return it", async () => {
    const model = new GatedChatModel([{ before: [text("Hello ST"), text("OP never")], gate: true, after: [text("unreachable")] }]);
    const { client } = await serve(model);
    const r = await client.chat.completions.create({ model: "k", messages: [{ role: "user", content: "hi" }], stop: ["STOP", "zzz"] });
    expect(r.choices[0]!.message.content).toBe("Hello ");
    expect(r.choices[0]!.finish_reason).toBe("stop");
    expect(model.started[0]!.signal!.aborted).toBe(true);
  });

  it("reports finish_reason length", async () => {
    const model = new GatedChatModel([{ before: [text("cut")], finish: "length" }]);
    const { client } = await serve(model);
    const r = await client.chat.completions.create({ model: "k", messages: [{ role: "user", content: "hi" }], max_tokens: 1 });
    expect(r.choices[0]!.finish_reason).toBe("length");
  });
});

describe("tool calls", () => {
  it("round-trips: tool_calls with functions.NAME:IDX ids, then the tool result reaches the model", async () => {
    const model = new GatedChatModel([
      { before: [thought("Need weather."), ...toolCallEvents(0, "get_weather", { city: "Paris" }), ...toolCallEvents(1, "get_weather", { city: "Oslo" })] },
      { before: [text("Paris is sunny.")] },
    ]);
    const { client } = await serve(model);
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: "user", content: "Weather in Paris and Oslo?" }];
    const first = await client.chat.completions.create({ model: "k", messages, tools: [weatherTool] });
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBeNull();
    const calls = choice.message.tool_calls as OpenAI.Chat.ChatCompletionMessageFunctionToolCall[];
    expect(calls.map((c) => [c.id, c.type, c.function.name, JSON.parse(c.function.arguments)])).toEqual([
      ["functions.get_weather:0", "function", "get_weather", { city: "Paris" }],
      ["functions.get_weather:1", "function", "get_weather", { city: "Oslo" }],
    ]);
    expect(model.started[0]!.request.tools).toEqual([weatherTool]);

    messages.push(choice.message as OpenAI.Chat.ChatCompletionAssistantMessageParam);
    messages.push({ role: "tool", tool_call_id: calls[0]!.id, content: "sunny" });
    messages.push({ role: "tool", tool_call_id: calls[1]!.id, content: "rain" });
    const second = await client.chat.completions.create({ model: "k", messages, tools: [weatherTool] });
    expect(second.choices[0]!.message.content).toBe("Paris is sunny.");
    const seen = model.started[1]!.request.messages;
    expect(seen[1]).toMatchObject({
      role: "assistant",
      content: "",
      reasoning_content: "Need weather.",
      tool_calls: [{ id: "functions.get_weather:0", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }, { id: "functions.get_weather:1" }],
    });
    // The tool message carried no name: it was taken from the matching call.
    expect(seen[2]).toEqual({ role: "tool", tool_call_id: "functions.get_weather:0", name: "get_weather", content: "sunny" });
    expect(seen[3]).toEqual({ role: "tool", tool_call_id: "functions.get_weather:1", name: "get_weather", content: "rain" });
  });

  it("numbers tool calls within the message even when the model counts across the dialog", async () => {
    const model = new GatedChatModel([{ before: toolCallEvents(5, "get_weather", { city: "Rome" }) }]);
    const { client } = await serve(model);
    const stream = await client.chat.completions.create({ model: "k", messages: [{ role: "user", content: "Rome?" }], tools: [weatherTool], stream: true });
    const deltas: OpenAI.Chat.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      deltas.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(deltas[0]).toEqual({ index: 0, id: "functions.get_weather:5", type: "function", function: { name: "get_weather", arguments: "" } });
    expect(deltas.slice(1).every((d) => d.index === 0 && d.id === undefined)).toBe(true);
    expect(JSON.parse(deltas.map((d) => d.function?.arguments ?? "").join(""))).toEqual({ city: "Rome" });
    expect(finish).toBe("tool_calls");
  });

  it('tool_choice "none" hides the tools; "required" is refused (no constrained decoding)', async () => {
    const model = new GatedChatModel([{ before: [text("ok")] }]);
    const { client } = await serve(model);
    await client.chat.completions.create({ model: "k", messages: [{ role: "user", content: "x" }], tools: [weatherTool], tool_choice: "none" });
    expect(model.started[0]!.request.tools).toBeUndefined();
    const r = await statusOf(client.chat.completions.create({ model: "k", messages: [{ role: "user", content: "x" }], tools: [weatherTool], tool_choice: "required" }));
    expect(r.status).toBe(400);
    expect(r.param).toBe("tool_choice");
  });
});

describe("POST /v1/chat/completions (streaming)", () => {
  it("streams reasoning under both names, content, a finish chunk and usage", async () => {
    const model = new GatedChatModel([{ before: [thought("Let me"), thought(" see."), text("Hi"), text(" there")] }]);
    const { client } = await serve(model);
    const stream = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }], stream: true, stream_options: { include_usage: true } });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    type D = { reasoning_content?: string; reasoning?: string; content?: string | null; role?: string };
    const deltas = chunks.filter((c) => c.choices.length > 0).map((c) => c.choices[0]!.delta as D);
    expect(deltas[0]).toEqual({ role: "assistant", content: "" });
    expect(deltas.map((d) => d.reasoning_content ?? "").join("")).toBe("Let me see.");
    expect(deltas.map((d) => d.reasoning ?? "").join("")).toBe("Let me see.");
    expect(deltas.map((d) => d.content ?? "").join("")).toBe("Hi there");
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.object === "chat.completion.chunk")).toBe(true);
    const withChoices = chunks.filter((c) => c.choices.length > 0);
    expect(withChoices.at(-1)!.choices[0]!.finish_reason).toBe("stop");
    expect(withChoices.slice(0, -1).every((c) => c.choices[0]!.finish_reason === null)).toBe(true);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ completion_tokens: 4 });
  });

  it("omits the usage chunk unless asked", async () => {
    const model = new GatedChatModel([{ before: [text("x")] }]);
    const { client } = await serve(model);
    const stream = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }], stream: true });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.every((c) => c.usage === undefined && c.choices.length === 1)).toBe(true);
  });

  it("cancels the generation when the client disconnects mid-stream", async () => {
    const model = new GatedChatModel([{ before: [text("first")], gate: true, after: [text("never sent")] }, { before: [text("next")] }]);
    const { client, server } = await serve(model);
    const abort = new AbortController();
    const stream = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "long" }], stream: true }, { signal: abort.signal });
    const got: string[] = [];
    // The SDK ends the iteration (quietly or with an abort error) once its signal aborts.
    try {
      for await (const c of stream) {
        got.push(c.choices[0]?.delta.content ?? "");
        if (got.join("") === "first") abort.abort();
      }
    } catch (err) {
      expect(err).toBeInstanceOf(OpenAI.APIUserAbortError);
    }
    expect(got.join("")).toBe("first");
    const gen = await model.nthStarted(0);
    expect(await gen.ended).toBe("cancelled");
    expect(gen.signal!.aborted).toBe(true);
    // The engine is free again: the next request runs.
    await until(() => !server.queue.running);
    const r = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "again" }] });
    expect(r.choices[0]!.message.content).toBe("next");
  });
});

describe("model failures", () => {
  it("500 with the message when the model fails before answering (JSON), and the next request runs", async () => {
    const model = new GatedChatModel([{ before: [text("half")], fail: "KV cache exhausted" }, { before: [text("ok")] }]);
    const log: string[] = [];
    const { client } = await serve(model, { log: (l) => log.push(l) });
    const r = await statusOf(client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }] }));
    expect(r.status).toBe(500);
    expect(r.message).toMatch(/KV cache exhausted/);
    expect(log.some((l) => l.includes("KV cache exhausted"))).toBe(true);
    expect((await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "y" }] })).choices[0]!.message.content).toBe("ok");
  });

  it("reports a mid-stream failure in-band, then ends the stream", async () => {
    const model = new GatedChatModel([{ before: [text("half")], fail: "engine fault" }]);
    const { client } = await serve(model);
    const stream = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }], stream: true });
    let got = "";
    const err = await (async () => {
      for await (const c of stream) got += c.choices[0]?.delta.content ?? "";
    })().catch((e: unknown) => e);
    expect(got).toBe("half");
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as Error).message).toMatch(/engine fault/);
  });
});

describe("queueing", () => {
  it("runs concurrent requests one at a time in arrival order", async () => {
    const turns: GatedTurn[] = [0, 1, 2].map((i) => ({ before: [text(`answer ${i}`)], gate: true }));
    const model = new GatedChatModel(turns);
    const { client, server } = await serve(model, { maxQueue: 4 });
    const ask = (i: number) => client.chat.completions.create({ model: "m", messages: [{ role: "user", content: `q${i}` }] });
    const p0 = ask(0);
    const g0 = await model.nthStarted(0);
    const p1 = ask(1);
    await until(() => server.queue.waiting === 1);
    const p2 = ask(2);
    await until(() => server.queue.waiting === 2);
    expect(model.started.length).toBe(1); // the others wait: one generation at a time
    g0.release();
    expect((await p0).choices[0]!.message.content).toBe("answer 0");
    const g1 = await model.nthStarted(1);
    expect(model.started.length).toBe(2);
    g1.release();
    (await model.nthStarted(2)).release();
    expect((await p1).choices[0]!.message.content).toBe("answer 1");
    expect((await p2).choices[0]!.message.content).toBe("answer 2");
    expect(model.started.map((g) => g.request.messages[0]!.content)).toEqual(["q0", "q1", "q2"]);
  });

  it("answers 429 when the queue is full", async () => {
    const model = new GatedChatModel([{ before: [text("a")], gate: true }, { before: [text("b")] }]);
    const { client, server } = await serve(model, { maxQueue: 1 });
    const ask = () => client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "q" }] });
    const p0 = ask();
    const g0 = await model.nthStarted(0);
    const p1 = ask();
    await until(() => server.queue.waiting === 1);
    const r = await statusOf(ask());
    expect(r.status).toBe(429);
    expect(r.message).toMatch(/busy/);
    g0.release();
    await p0;
    expect((await p1).choices[0]!.message.content).toBe("b");
  });

  it("opens a queued stream at once and keeps it alive with comments until its turn", async () => {
    const model = new GatedChatModel([{ before: [text("first")], gate: true }, { before: [text("second")] }]);
    const { client, server } = await serve(model, { heartbeatMs: 10 });
    const p0 = client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "q0" }] });
    const g0 = await model.nthStarted(0);
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "q1" }], stream: true }),
    });
    expect(res.status).toBe(200); // headers while still queued
    expect(server.queue.waiting).toBe(1);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let received = "";
    while (!received.includes(": keep-alive")) received += decoder.decode((await reader.read()).value, { stream: true });
    expect(received).not.toContain("data:"); // nothing of the answer yet
    g0.release();
    await p0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      received += decoder.decode(value, { stream: true });
    }
    const data = received.split("\n").filter((l) => l.startsWith("data: ") && l !== "data: [DONE]").map((l) => JSON.parse(l.slice(6)) as OpenAI.Chat.ChatCompletionChunk);
    expect(data[0]!.choices[0]!.delta).toEqual({ role: "assistant", content: "" });
    expect(data.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("second");
    expect(received.trimEnd().endsWith("data: [DONE]")).toBe(true);
  });

  it("drops a queued request whose client disconnects without running it", async () => {
    const model = new GatedChatModel([{ before: [text("a")], gate: true }, { before: [text("c")] }]);
    const { client, server } = await serve(model, { maxQueue: 2 });
    const p0 = client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "q0" }] });
    const g0 = await model.nthStarted(0);
    const abort = new AbortController();
    const p1 = client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "q1" }] }, { signal: abort.signal });
    await until(() => server.queue.waiting === 1);
    abort.abort();
    await expect(p1).rejects.toThrow();
    await until(() => server.queue.waiting === 0);
    g0.release();
    await p0;
    const p2 = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "q2" }] });
    expect(p2.choices[0]!.message.content).toBe("c");
    expect(model.started.map((g) => g.request.messages[0]!.content)).toEqual(["q0", "q2"]);
  });
});

describe("shutdown", () => {
  it("close() cancels running and queued generations and resolves once they ended", async () => {
    const model = new GatedChatModel([{ before: [text("a")], gate: true }, { before: [text("b")] }]);
    const { client, server } = await serve(model);
    const p0 = client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "q0" }], stream: true });
    const g0 = await model.nthStarted(0);
    const p1 = client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "q1" }] }).catch((e: unknown) => e);
    await until(() => server.queue.waiting === 1);
    await server.close();
    expect(await g0.ended).toBe("cancelled");
    expect(server.queue.running).toBe(false);
    expect(server.queue.waiting).toBe(0);
    expect(model.started.length).toBe(1); // the queued request never ran
    expect(await p1).toBeInstanceOf(OpenAI.APIConnectionError);
    await (await p0).controller.abort();
  });
});

describe("request validation and errors", () => {
  const model = () => new GatedChatModel([]);
  it.each([
    [{ messages: [] }, "messages", /non-empty array/],
    [{ messages: [{ role: "wizard", content: "x" }] }, "messages[0].role", /expected "system"/],
    [{ messages: [{ role: "user", content: 5 }] }, "messages[0].content", /string or an array/],
    [{ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }] }, "messages[0].content[0].type", /only "text"/],
    [{ messages: [{ role: "tool", content: "r" }] }, "messages[0].tool_call_id", /tool call/],
    [{ messages: [{ role: "tool", tool_call_id: "call_1", content: "r" }] }, "messages[0].name", /no earlier assistant tool call/],
    [{ messages: [{ role: "user", content: "x" }], temperature: 3 }, "temperature", /out of range/],
    [{ messages: [{ role: "user", content: "x" }], top_p: "high" }, "top_p", /expected a number/],
    [{ messages: [{ role: "user", content: "x" }], max_tokens: 0 }, "max_tokens", /out of range/],
    [{ messages: [{ role: "user", content: "x" }], seed: 1.5 }, "seed", /whole number/],
    [{ messages: [{ role: "user", content: "x" }], stop: [1] }, "stop[0]", /non-empty string/],
    [{ messages: [{ role: "user", content: "x" }], n: 2 }, "n", /out of range/],
    [{ messages: [{ role: "user", content: "x" }], stream: "yes" }, "stream", /true or false/],
    [{ messages: [{ role: "user", content: "x" }], tools: [{ type: "function", function: { name: "bad name!" } }] }, "tools[0].function.name", /letters, digits/],
  ])("400 for %j naming %s", async (body, param, pattern) => {
    const { client } = await serve(model());
    const r = await statusOf(client.chat.completions.create({ model: "m", ...(body as object) } as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming));
    expect(r.status).toBe(400);
    expect(r.param).toBe(param);
    expect(r.message).toMatch(pattern);
  });

  it("400 for a body that is not JSON, and for a prompt longer than the context window", async () => {
    const { server } = await serve(new GatedChatModel([], 50));
    const notJson = await fetch(`${server.url}/v1/chat/completions`, { method: "POST", body: "{nope", headers: { "content-type": "application/json" } });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { message: string } }).error.message).toMatch(/not valid JSON/);
    const long = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ messages: [{ role: "user", content: "x".repeat(1000) }] }),
      headers: { "content-type": "application/json" },
    });
    expect(long.status).toBe(400);
    expect(((await long.json()) as { error: { message: string; param: string } }).error).toMatchObject({ param: "messages", message: expect.stringMatching(/context window is 50 tokens/) });
  });

  it("413 for a body over the size cap, and the server keeps serving", async () => {
    const model = new GatedChatModel([{ before: [text("fine")] }]);
    const { client } = await serve(model, { maxBodyBytes: 4096 });
    const r = await statusOf(client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x".repeat(100_000) }] }));
    expect(r.status).toBe(413);
    expect(r.message).toMatch(/limit is 4096 bytes/);
    const ok = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "small" }] });
    expect(ok.choices[0]!.message.content).toBe("fine");
  });

  it("401 without the right API key; /health stays open", async () => {
    const model = new GatedChatModel([{ before: [text("authorized")] }]);
    const { server, client } = await serve(model, { apiKey: "sekrit" });
    const wrong = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "guess", maxRetries: 0 });
    expect((await statusOf(wrong.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }] }))).status).toBe(401);
    expect((await statusOf(wrong.models.list())).status).toBe(401);
    const none = await fetch(`${server.url}/v1/models`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { message: string } }).error.message).toMatch(/missing API key/);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const ok = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }] });
    expect(ok.choices[0]!.message.content).toBe("authorized");
    expect(model.started.length).toBe(1);
  });

  it("415 for bodies a browser could send cross-origin without a preflight", async () => {
    const model = new GatedChatModel([{ before: [text("json ok")] }]);
    const { server } = await serve(model);
    const body = JSON.stringify({ messages: [{ role: "user", content: "x" }] });
    for (const type of ["text/plain;charset=UTF-8", "application/x-www-form-urlencoded"]) {
      const r = await fetch(`${server.url}/v1/chat/completions`, { method: "POST", body, headers: { "content-type": type } });
      expect(r.status).toBe(415);
      expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/Content-Type must be application\/json/);
    }
    expect(model.started.length).toBe(0);
    const ok = await fetch(`${server.url}/v1/chat/completions`, { method: "POST", body, headers: { "content-type": "application/json; charset=utf-8" } });
    expect(ok.status).toBe(200);
  });

  it("404 for unknown routes and 405 for wrong methods", async () => {
    const { server } = await serve(model());
    expect((await fetch(`${server.url}/v1/completions`, { method: "POST", body: "{}" })).status).toBe(404);
    const r = await fetch(`${server.url}/v1/chat/completions`);
    expect(r.status).toBe(405);
    expect(r.headers.get("allow")).toBe("POST");
  });
});

describe("GET /v1/models and /health", () => {
  it("lists the one model with its context length; health reports the queue", async () => {
    const { client, server } = await serve(new GatedChatModel([], 4096));
    const models = [];
    for await (const m of client.models.list()) models.push(m);
    expect(models).toEqual([expect.objectContaining({ id: "gated-k2", object: "model", owned_by: "k2", max_model_len: 4096 })]);
    expect(await client.models.retrieve("gated-k2")).toMatchObject({ id: "gated-k2", max_model_len: 4096 });
    const missing = await statusOf(client.models.retrieve("gpt-5"));
    expect([missing.status, missing.message]).toEqual([404, expect.stringMatching(/no model "gpt-5" here; this server has "gated-k2"/)]);
    const health = (await (await fetch(`${server.url}/health`)).json()) as Record<string, unknown>;
    expect(health).toEqual({ status: "ok", model: "gated-k2", generating: false, queued: 0 });
  });
});
