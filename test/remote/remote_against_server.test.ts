// The remote ChatModel against our own server: what one side streams the other reproduces,
// event for event — over a gated scripted model, and over the real engine on the tiny fixture
// checkpoint, where the remote turn must match the same turn run on the local model directly.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ChatModel } from "../../src/chat/chat_model.js";
import type { ChatEvent } from "../../src/chat/events.js";
import type { ChatMessage, ToolSchema } from "../../src/chat/messages.js";
import { TurnAccumulator } from "../../src/chat/turn_accumulator.js";
import { createRemoteChatModel } from "../../src/remote/create_remote_chat_model.js";
import { startK2Server, type K2Server } from "../../src/server/k2_server.js";
import { openLocalChatModel, type OpenedLocalModel } from "../../src/server/local_model.js";
import { GatedChatModel, toolCallEvents } from "../server/gated_chat_model.js";

const TINY = "../shared/fixtures/kimi-k2-tiny";
const servers: K2Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serve(model: ChatModel, apiKey?: string): Promise<K2Server> {
  const s = await startK2Server({ model, host: "127.0.0.1", port: 0, apiKey });
  servers.push(s);
  return s;
}

async function collect(stream: AsyncIterable<ChatEvent>): Promise<ChatEvent[]> {
  const out: ChatEvent[] = [];
  for await (const e of stream) out.push(e);
  return out;
}

/** Events without stats, with consecutive text deltas of one kind merged (chunking may differ). */
function normalized(events: ChatEvent[]): ChatEvent[] {
  const out: ChatEvent[] = [];
  for (const e of events) {
    if (e.type === "stats") continue;
    const last = out.at(-1);
    if ((e.type === "reasoning" || e.type === "content") && last?.type === e.type) last.text += e.text;
    else if (e.type === "tool_call_delta" && last?.type === "tool_call_delta" && last.index === e.index) last.text += e.text;
    else out.push({ ...e });
  }
  return out;
}

const tools: ToolSchema[] = [
  { type: "function", function: { name: "read_file", description: "Read a file", parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] } } },
];

describe("remote model ↔ k2 server (scripted model)", () => {
  it("reproduces the served model's events and carries a tool round trip", async () => {
    const turn1: ChatEvent[] = [{ type: "reasoning", text: "Look at " }, { type: "reasoning", text: "the file." }, { type: "content", text: "Reading." }, ...toolCallEvents(0, "read_file", { path: "a.txt" })];
    const turn2: ChatEvent[] = [{ type: "reasoning", text: "Got it." }, { type: "content", text: "It says " }, { type: "content", text: "héllo 世界." }];
    const served = new GatedChatModel([{ before: turn1 }, { before: turn2 }], 65536);
    const server = await serve(served, "key-1");
    const model = await createRemoteChatModel({ endpoint: server.url, apiKey: "key-1" });
    expect(model.name).toBe("gated-k2");
    expect(model.contextWindow).toBe(65536);

    const messages: ChatMessage[] = [{ role: "user", content: "What is in a.txt?" }];
    const first = await collect(model.stream({ messages, tools, sampling: { temperature: 0.5, maxTokens: 64 } }));
    expect(normalized(first)).toEqual([...normalized(turn1), { type: "end", reason: "tool_calls" }]);
    expect(served.started[0]!.request).toEqual({ messages, tools, sampling: { temperature: 0.5, maxTokens: 64 } });
    const stats = first.find((e) => e.type === "stats");
    expect(stats).toMatchObject({ stats: { promptTokens: await served.countTokens(messages, tools), reusedTokens: 3 } });

    // Fold the turn as the agent does, answer the call, ask again.
    const acc = new TurnAccumulator();
    for (const e of first) acc.add(e);
    messages.push(acc.message());
    messages.push({ role: "tool", tool_call_id: "functions.read_file:0", name: "read_file", content: "héllo 世界" });
    const second = await collect(model.stream({ messages, tools, sampling: {} }));
    expect(normalized(second)).toEqual([...normalized(turn2), { type: "end", reason: "stop" }]);
    // The server's model saw the transcript exactly as the client holds it.
    expect(served.started[1]!.request.messages).toEqual(messages);
  });

  it("fails to open with a wrong key, naming the cause", async () => {
    const server = await serve(new GatedChatModel([]), "right");
    await expect(createRemoteChatModel({ endpoint: server.url, apiKey: "wrong" })).rejects.toThrow(/HTTP 401: the server rejected the API key \(check --api-key\)/);
  });

  it("cancelling the remote stream cancels the server's generation", async () => {
    const served = new GatedChatModel([{ before: [{ type: "content", text: "partial" }], gate: true, after: [{ type: "content", text: "rest" }] }]);
    const server = await serve(served);
    const model = await createRemoteChatModel({ endpoint: server.url });
    const abort = new AbortController();
    const events: ChatEvent[] = [];
    for await (const e of model.stream({ messages: [{ role: "user", content: "go" }], sampling: {} }, abort.signal)) {
      events.push(e);
      if (e.type === "content") abort.abort();
    }
    expect(events.at(-1)).toEqual({ type: "end", reason: "cancelled" });
    expect(await served.started[0]!.ended).toBe("cancelled");
  });
});

describe("remote model ↔ k2 server on the tiny fixture (real engine + LocalChatModel)", () => {
  let local: OpenedLocalModel;
  beforeAll(async () => {
    local = await openLocalChatModel(TINY, { threads: 1, contextSize: 2048 });
  });
  afterAll(() => local?.close());

  it("streams the same greedy turn remotely as the local model produces directly", async () => {
    const messages: ChatMessage[] = [{ role: "user", content: "Say something." }];
    const sampling = { temperature: 0, maxTokens: 12 };
    const direct = await collect(local.model.stream({ messages, sampling }));
    const server = await serve(local.model);
    const remote = await createRemoteChatModel({ endpoint: `${server.url}/v1` });
    expect(remote.name).toBe("kimi-k2-tiny");
    expect(remote.contextWindow).toBe(2048);
    const viaServer = await collect(remote.stream({ messages, sampling }));
    expect(normalized(viaServer)).toEqual(normalized(direct));
    expect(normalized(direct).some((e) => e.type === "content" || e.type === "reasoning")).toBe(true);
    const directStats = direct.find((e) => e.type === "stats");
    const remoteStats = viaServer.find((e) => e.type === "stats");
    if (directStats?.type !== "stats" || remoteStats?.type !== "stats") throw new Error("missing stats");
    expect(remoteStats.stats.promptTokens).toBe(directStats.stats.promptTokens);
    expect(remoteStats.stats.generatedTokens).toBe(directStats.stats.generatedTokens);
    expect(directStats.stats.generatedTokens).toBeGreaterThan(0);
    // The second run found the whole prompt in the session's KV cache.
    expect(remoteStats.stats.reusedTokens).toBeGreaterThan(0);
  });
});
