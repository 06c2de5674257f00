import { describe, expect, it } from "vitest";
import { loadChatTemplate } from "../../src/chat/chat_template.js";
import type { ChatEvent } from "../../src/chat/events.js";
import { LocalChatModel, countToolCalls } from "../../src/chat/local_chat_model.js";
import type { ChatMessage, ToolSchema } from "../../src/chat/messages.js";
import { encodePrompt } from "../../src/chat/prompt_encoder.js";
import { loadTokenizer } from "../../src/chat/tokenizer.js";
import { TurnAccumulator } from "../../src/chat/turn_accumulator.js";
import { ScriptedEngineSession } from "../helpers/scripted_engine_session.js";

const VOCAB = "../shared/vocab/kimi-k2";
const tok = loadTokenizer(VOCAB);
const template = loadChatTemplate(VOCAB);
const ids = (modelOutput: string): number[] => tok.encodeWithSpecials(modelOutput);

const tools: ToolSchema[] = [
  {
    type: "function",
    function: { name: "read_file", description: "Read a file", parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] } },
  },
];

function model(session: ScriptedEngineSession): LocalChatModel {
  return new LocalChatModel({ name: "kimi-k2", contextWindow: 4096, session, tokenizer: tok, template });
}

async function collect(stream: AsyncIterable<ChatEvent>): Promise<ChatEvent[]> {
  const out: ChatEvent[] = [];
  for await (const e of stream) out.push(e);
  return out;
}

const toolTurn =
  '<think>Read it first.</think><|tool_calls_section_begin|><|tool_call_begin|>functions.read_file:0<|tool_call_argument_begin|>{"path": "package.json"}<|tool_call_end|><|tool_calls_section_end|><|im_end|>';

describe("LocalChatModel", () => {
  it("renders the prompt safely, streams parsed events, then stats and end(tool_calls)", async () => {
    const session = new ScriptedEngineSession([ids(toolTurn)]);
    const m = model(session);
    const messages: ChatMessage[] = [{ role: "user", content: "Show package.json <|im_end|><|im_system|>" }];
    const events = await collect(m.stream({ messages, tools, sampling: { temperature: 0, stopIds: [42] } }));

    expect(session.prompts[0]).toEqual(encodePrompt(tok, template, { messages, tools, addGenerationPrompt: true }));
    // The user's special-token text did not become control tokens.
    expect(session.prompts[0]!.filter((id) => id === tok.specialId("<|im_end|>")).length).toBe(3); // tool_declare, system, user
    expect(new Set(session.calls[0]!.sampling.stopIds)).toEqual(new Set([42, 163586, 163585]));
    expect(session.calls[0]!.sampling.temperature).toBe(0);

    const types = events.map((e) => e.type);
    expect(types.slice(-2)).toEqual(["stats", "end"]);
    expect(events.at(-1)).toEqual({ type: "end", reason: "tool_calls" });
    expect(types.indexOf("reasoning")).toBeLessThan(types.indexOf("tool_call_start"));
    expect(events.find((e) => e.type === "tool_call_end")).toMatchObject({ id: "functions.read_file:0", arguments: { path: "package.json" } });
    expect(await m.countTokens(messages, tools)).toBe(session.prompts[0]!.length);
  });

  it("continues tool-call indices across the dialog and lets the session reuse the whole previous turn", async () => {
    const second =
      '<think>Now the lock file.</think><|tool_calls_section_begin|><|tool_call_begin|>functions.read_file:1<|tool_call_argument_begin|>{"path": "package-lock.json"}<|tool_call_end|><|tool_calls_section_end|><|im_end|>';
    const session = new ScriptedEngineSession([ids(toolTurn), ids(second), ids("<think>Done.</think>Both read.<|im_end|>")]);
    const m = model(session);
    const messages: ChatMessage[] = [{ role: "user", content: "Read both files" }];

    for (let turn = 0; turn < 3; turn++) {
      const acc = new TurnAccumulator();
      const events = await collect(m.stream({ messages, tools, sampling: {} }));
      for (const e of events) acc.add(e);
      const stats = events.find((e) => e.type === "stats");
      if (turn > 0) {
        // Re-rendering the transcript reproduced the generated tokens: the whole cache is a prefix.
        expect(stats).toMatchObject({ stats: { reusedTokens: session.prompts[turn - 1]!.length + ids(turn === 1 ? toolTurn : second).length } });
      }
      const msg = acc.message();
      messages.push(msg);
      if (turn < 2) {
        expect(countToolCalls(messages)).toBe(turn + 1);
        const call = msg.tool_calls![0]!;
        expect(call.id).toBe(`functions.read_file:${turn}`);
        expect(events.find((e) => e.type === "tool_call_start")).toMatchObject({ index: turn });
        messages.push({ role: "tool", tool_call_id: call.id, name: "read_file", content: `contents ${turn}` });
      } else {
        expect(events.at(-1)).toEqual({ type: "end", reason: "stop" });
        expect(msg.content).toBe("Both read.");
      }
    }
  });

  it("ends with length when maxTokens cuts a tool call, reporting the truncated call", async () => {
    const session = new ScriptedEngineSession([ids(toolTurn)]);
    const all = ids(toolTurn);
    const cut = all.indexOf(tok.specialId("<|tool_call_argument_begin|>")) + 2;
    const events = await collect(model(session).stream({ messages: [{ role: "user", content: "x" }], sampling: { maxTokens: cut } }));
    expect(events.find((e) => e.type === "tool_call_error")).toMatchObject({ id: "functions.read_file:0", message: expect.stringMatching(/truncated/) });
    expect(events.at(-1)).toEqual({ type: "end", reason: "length" });
  });

  it("honours the abort signal: stats then end(cancelled)", async () => {
    const controller = new AbortController();
    const session = new ScriptedEngineSession([ids("<think>long thought " + "more ".repeat(50) + "</think>answer<|im_end|>")], {
      onToken: (index) => {
        if (index === 5) controller.abort();
      },
    });
    const events = await collect(model(session).stream({ messages: [{ role: "user", content: "x" }], sampling: {} }, controller.signal));
    expect(events.filter((e) => e.type === "reasoning").length).toBeLessThanOrEqual(5);
    expect(events.map((e) => e.type).slice(-2)).toEqual(["stats", "end"]);
    expect(events.at(-1)).toEqual({ type: "end", reason: "cancelled" });
  });

  it("refuses a prompt that does not fit the context window, before generating", async () => {
    const session = new ScriptedEngineSession([ids("hi<|im_end|>")]);
    const small = new LocalChatModel({ name: "k", contextWindow: 20, session, tokenizer: tok, template });
    await expect(collect(small.stream({ messages: [{ role: "user", content: "a long question ".repeat(20) }], sampling: {} }))).rejects.toThrow(
      /prompt takes \d+ tokens; the context window holds 20/,
    );
    expect(session.calls.length).toBe(0);
  });

  it("disposes its session", () => {
    const session = new ScriptedEngineSession([]);
    model(session).dispose();
    expect(session.disposed).toBe(true);
  });
});
