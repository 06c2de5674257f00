// The agent's per-step prompt encoding: the incremental encoder (message by message through the
// built-in K2 renderer) must give exactly the ids of rendering the checkpoint's Jinja template in
// full and encoding that, at every step of a growing conversation.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BuiltinK2Template, JinjaChatTemplate, loadChatTemplate, rendersAsBuiltinK2 } from "../../src/chat/chat_template.js";
import { chunkCuts } from "../../src/chat/encode_chunks.js";
import { IncrementalPromptEncoder } from "../../src/chat/incremental_prompt_encoder.js";
import type { ChatMessage, ToolSchema } from "../../src/chat/messages.js";
import { encodePrompt } from "../../src/chat/prompt_encoder.js";
import { loadTokenizer } from "../../src/chat/tokenizer.js";
import { seededRng as rng } from "../helpers/seeded_rng.js";

const VOCAB = "../shared/vocab/kimi-k2";
const TINY = "../shared/fixtures/kimi-k2-tiny";
const tok = loadTokenizer(VOCAB);
const jinja = loadChatTemplate(VOCAB);

const WORDS = ["hello", "世界", " ", "\n", "{", "}", '"q"', "é", "🚀", "  x", "path/to.ts", "<|im_end|>", "</think>", "\\", "\t", "\uFDD0"];
const words = (r: () => number, n = 8): string => Array.from({ length: Math.floor(r() * n) }, () => WORDS[Math.floor(r() * WORDS.length)]).join("");

const TOOLS: ToolSchema[] = [
  { type: "function", function: { name: "read_file", description: "Read <|im_end|> a file", parameters: { type: "object", required: ["path"], properties: { path: { type: "string" } } } } },
  { type: "function", function: { name: "run_shell", description: "Run 命令", parameters: { type: "object", properties: {} } } },
];

/** The messages an agent appends over a few turns: user, tool-call steps with results, answers. */
function* growingConversation(r: () => number): Generator<ChatMessage> {
  let calls = 0;
  const turns = 1 + Math.floor(r() * 4);
  for (let t = 0; t < turns; t++) {
    yield r() < 0.3 ? { role: "user", content: [{ type: "text", text: words(r) }, { type: "text", text: words(r) }] } : { role: "user", content: words(r) };
    const steps = Math.floor(r() * 4);
    for (let s = 0; s < steps; s++) {
      const toolCalls = Array.from({ length: 1 + Math.floor(r() * 2) }, () => {
        const name = r() < 0.5 ? "read_file" : "run_shell";
        const args = r() < 0.6 ? JSON.stringify({ path: words(r) }) : { path: words(r), n: Math.floor(r() * 9), deep: { z: [1, "two", null], a: 0.5 } };
        return { id: `functions.${name}:${calls++}`, type: "function" as const, function: { name, arguments: args } };
      });
      yield { role: "assistant", content: words(r, 3), tool_calls: toolCalls, ...(r() < 0.8 ? { reasoning_content: words(r) } : {}) };
      for (const c of toolCalls) yield { role: "tool", tool_call_id: c.id, name: c.function.name, content: words(r) };
    }
    if (r() < 0.8) yield { role: "assistant", content: words(r), ...(r() < 0.7 ? { reasoning_content: words(r) } : {}) };
  }
}

describe("incremental prompt encoding", () => {
  it("recognises the official K2 Thinking chat_template.jinja (vocab folder and tiny checkpoint)", () => {
    expect(jinja).toBeInstanceOf(JinjaChatTemplate);
    expect(rendersAsBuiltinK2(jinja)).toBe(true);
    expect(rendersAsBuiltinK2(loadChatTemplate(TINY))).toBe(true);
    expect(rendersAsBuiltinK2(new BuiltinK2Template())).toBe(true);
  });

  it("does not treat an edited template as the built-in one", () => {
    const source = readFileSync(`${VOCAB}/chat_template.jinja`, "utf8").replaceAll("## Return of", "## Result of");
    expect(rendersAsBuiltinK2(new JinjaChatTemplate(source, "edited.jinja"))).toBe(false);
    // ...and still encodes it correctly, in full.
    const encoder = new IncrementalPromptEncoder(tok, new JinjaChatTemplate(source, "edited.jinja"));
    const input = { messages: [{ role: "tool", tool_call_id: "functions.f:0", content: "x" }], addGenerationPrompt: true };
    expect(tok.decode(encoder.encode(input))).toContain("## Result of functions.f:0");
    expect(encoder.lastEncode.whole).toBe(true);
  });

  it("equals full Jinja rendering + encoding at every step of random growing conversations, encoding only new messages", () => {
    const r = rng(11);
    for (let c = 0; c < 40; c++) {
      const encoder = new IncrementalPromptEncoder(tok, jinja);
      const tools = r() < 0.6 ? TOOLS : undefined;
      const messages: ChatMessage[] = r() < 0.7 ? [{ role: "system", content: words(r) }] : [];
      let first = true;
      for (const m of growingConversation(r)) {
        messages.push(m);
        const input = { messages: [...messages], tools, addGenerationPrompt: r() < 0.9 };
        expect(encoder.encode(input)).toEqual(encodePrompt(tok, jinja, input));
        expect(encoder.lastEncode.whole).toBe(false);
        // A new final answer drops the reasoning of everything before it: those are re-encoded.
        if (!first && !(m.role === "assistant" && m.tool_calls === undefined)) expect(encoder.lastEncode.messagesEncoded).toBe(1);
        first = false;
      }
    }
  });

  it("encodes one message per step late in a 300-call chain", () => {
    const encoder = new IncrementalPromptEncoder(tok, jinja);
    const messages: ChatMessage[] = [{ role: "system", content: "You are k2." }, { role: "user", content: "read them" }];
    for (let i = 0; i < 300; i++) {
      const id = `functions.read_file:${i}`;
      messages.push({ role: "assistant", content: "", reasoning_content: `step ${i}`, tool_calls: [{ id, type: "function", function: { name: "read_file", arguments: `{"path": "f${i}"}` } }] });
      encoder.encode({ messages, tools: TOOLS, addGenerationPrompt: true });
      messages.push({ role: "tool", tool_call_id: id, content: `value ${i}` });
      encoder.encode({ messages, tools: TOOLS, addGenerationPrompt: true });
      expect(encoder.lastEncode).toEqual({ messagesEncoded: 1, whole: false });
    }
    const input = { messages, tools: TOOLS, addGenerationPrompt: true };
    expect(encoder.encode(input)).toEqual(encodePrompt(tok, jinja, input));
  });

  it("a rebuilt but equal message object reuses its ids (the text cache)", () => {
    const encoder = new IncrementalPromptEncoder(tok, jinja);
    const history: ChatMessage[] = [{ role: "user", content: "hi" }, { role: "assistant", content: "hello" }];
    encoder.encode({ messages: [{ role: "system", content: "S" }, ...history], addGenerationPrompt: true });
    const ids = encoder.encode({ messages: [{ role: "system", content: "S" }, ...history], addGenerationPrompt: true });
    expect(ids).toEqual(encodePrompt(tok, jinja, { messages: [{ role: "system", content: "S" }, ...history], addGenerationPrompt: true }));
  });

  it("places Kimi's long-run cut where the whole prompt has it, across a message boundary", () => {
    // 13,000 digits end one message and start the next: with the markup between them that is one
    // run of over 25,000 non-space characters, so the reference cuts it inside the second message.
    const encoder = new IncrementalPromptEncoder(tok, jinja);
    const digits = "7".repeat(13_000);
    const messages: ChatMessage[] = [
      { role: "user", content: `a ${digits}` },
      { role: "assistant", content: `${digits} b` },
    ];
    const input = { messages, addGenerationPrompt: true };
    const ids = encoder.encode(input);
    expect(ids).toEqual(encodePrompt(tok, jinja, input));
    // The cut really is in play: the rendered prompt has one, and neither message alone does.
    expect(chunkCuts(jinja.render(input))).toHaveLength(1);
    for (const m of messages) expect(chunkCuts(jinja.render({ messages: [m], addGenerationPrompt: false }))).toEqual([]);
    messages.push({ role: "user", content: "next" });
    expect(encoder.encode(input)).toEqual(encodePrompt(tok, jinja, input));
    expect(encoder.lastEncode).toEqual({ messagesEncoded: 1, whole: false });
  });

  it("stays exact and incremental past 400,000 characters, where Kimi starts a new chunk", () => {
    const encoder = new IncrementalPromptEncoder(tok, jinja);
    const messages: ChatMessage[] = [{ role: "system", content: "k2" }, { role: "user", content: "read the logs" }];
    const line = (i: number) => `${i} request served in ${i % 97} ms by worker ${i % 7}\n`;
    for (let i = 0; i < 6; i++) {
      const id = `functions.read_file:${i}`;
      messages.push({ role: "assistant", content: "", tool_calls: [{ id, type: "function", function: { name: "read_file", arguments: `{"path": "log${i}"}` } }] });
      let text = "";
      for (let j = 0; text.length < 90_000; j++) text += line(i * 10_000 + j);
      messages.push({ role: "tool", tool_call_id: id, content: text });
      encoder.encode({ messages, addGenerationPrompt: true });
      if (i > 0) expect(encoder.lastEncode).toEqual({ messagesEncoded: 2, whole: false });
    }
    const input = { messages, addGenerationPrompt: true };
    expect(encoder.encode(input)).toEqual(encodePrompt(tok, jinja, input));
    expect(chunkCuts(jinja.render(input)).length).toBeGreaterThan(0);
  });

  it("stays incremental below the cut limits (24,000-digit tool result)", () => {
    const encoder = new IncrementalPromptEncoder(tok, jinja);
    const messages: ChatMessage[] = [
      { role: "user", content: "x" },
      { role: "assistant", content: "", tool_calls: [{ id: "functions.cat:0", type: "function", function: { name: "cat", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "functions.cat:0", content: `\n${"7".repeat(24_000)}\n` },
    ];
    const input = { messages, addGenerationPrompt: true };
    const ids = encoder.encode(input);
    expect(encoder.lastEncode.whole).toBe(false);
    expect(ids).toEqual(encodePrompt(tok, jinja, input));
  });
});
