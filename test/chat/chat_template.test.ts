import { copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BuiltinK2Template, JinjaChatTemplate, loadChatTemplate } from "../../src/chat/chat_template.js";
import type { ChatMessage, ToolSchema } from "../../src/chat/messages.js";
import { encodePrompt } from "../../src/chat/prompt_encoder.js";
import { loadTokenizer } from "../../src/chat/tokenizer.js";
import { seededRng as rng } from "../helpers/seeded_rng.js";

const VOCAB = "../shared/vocab/kimi-k2";
const fixture = JSON.parse(readFileSync("../shared/fixtures/chat/k2-thinking-template.json", "utf8")) as {
  cases: { name: string; messages: ChatMessage[]; tools?: ToolSchema[]; expected: string }[];
};


const WORDS = ["hello", "世界", " ", "\n", "{", "}", "\"q\"", "é", "🚀", "  x", "path/to.ts", "<|im_end|>", "</think>", "\\", "\t"];
function words(r: () => number, n = 6): string {
  let s = "";
  const len = Math.floor(r() * n);
  for (let i = 0; i < len; i++) s += WORDS[Math.floor(r() * WORDS.length)];
  return s;
}

// Random conversations covering every message shape the template handles.
function randomConversation(r: () => number): { messages: ChatMessage[]; tools?: ToolSchema[] } {
  const messages: ChatMessage[] = [];
  let calls = 0;
  if (r() < 0.5) messages.push({ role: "system", content: words(r) });
  const turns = 1 + Math.floor(r() * 5);
  for (let t = 0; t < turns; t++) {
    messages.push(r() < 0.3 ? { role: "user", content: [{ type: "text", text: words(r) }, { type: "text", text: words(r) }] } : { role: "user", content: words(r) });
    if (r() < 0.5) {
      const n = 1 + Math.floor(r() * 3);
      const toolCalls = Array.from({ length: n }, () => {
        const name = r() < 0.5 ? "read_file" : "run_shell";
        const id = `functions.${name}:${calls++}`;
        const args = r() < 0.5 ? JSON.stringify({ path: words(r) }) : { path: words(r), n: Math.floor(r() * 100), deep: { z: [1, "two", null, true], a: 0.5 } };
        return { id, type: "function" as const, function: { name, arguments: args } };
      });
      const m: ChatMessage = { role: "assistant", content: words(r), tool_calls: toolCalls };
      if (r() < 0.7) m.reasoning_content = words(r);
      messages.push(m);
      for (const c of toolCalls) messages.push({ role: "tool", tool_call_id: c.id, name: c.function.name, content: words(r) });
    }
    if (r() < 0.7) {
      const m: ChatMessage = { role: "assistant", content: words(r) };
      if (r() < 0.7) m.reasoning_content = words(r);
      messages.push(m);
    }
  }
  const tools: ToolSchema[] | undefined =
    r() < 0.5
      ? [
          {
            type: "function",
            function: {
              name: "read_file",
              description: words(r),
              parameters: { type: "object", required: ["path"], properties: { path: { type: "string", description: words(r) } } },
            },
          },
          { type: "function", function: { name: "run_shell", description: "Run 命令", parameters: { type: "object", properties: {} } } },
        ]
      : undefined;
  return tools !== undefined ? { messages, tools } : { messages };
}

describe("chat template", () => {
  const jinja = loadChatTemplate(VOCAB);
  const builtin = new BuiltinK2Template();

  it("loads the checkpoint's chat_template.jinja", () => {
    expect(jinja).toBeInstanceOf(JinjaChatTemplate);
    expect(jinja.origin).toMatch(/chat_template\.jinja$/);
  });

  it("falls back to the built-in renderer when a directory has no template", () => {
    expect(loadChatTemplate(mkdtempSync(join(tmpdir(), "k2-tpl-"))).origin).toBe("builtin");
  });

  it("uses tokenizer_config.json's chat_template when there is no chat_template.jinja (K2 Instruct)", () => {
    const dir = mkdtempSync(join(tmpdir(), "k2-instruct-"));
    copyFileSync(`${VOCAB}/tokenizer_config.k2-instruct-2025-07-15.json`, join(dir, "tokenizer_config.json"));
    const t = loadChatTemplate(dir);
    expect(t.origin).toMatch(/tokenizer_config\.json \(chat_template\)$/);
    expect(t.render({ messages: [{ role: "user", content: "hi" }], addGenerationPrompt: true })).toBe(
      "<|im_system|>system<|im_middle|>You are a helpful assistant<|im_end|><|im_user|>user<|im_middle|>hi<|im_end|><|im_assistant|>assistant<|im_middle|>",
    );
  });

  it.each(fixture.cases.map((c) => [c.name, c] as const))("renders %s exactly (jinja and built-in)", (_n, c) => {
    const input = { messages: c.messages, tools: c.tools, addGenerationPrompt: true };
    expect(jinja.render(input)).toBe(c.expected);
    expect(builtin.render(input)).toBe(c.expected);
  });

  it("omits the generation prompt on request", () => {
    const c = fixture.cases[0]!;
    const out = jinja.render({ messages: c.messages, addGenerationPrompt: false });
    expect(out).toBe(c.expected.slice(0, -"<|im_assistant|>assistant<|im_middle|>".length));
  });

  it("the built-in renderer matches the Jinja template on random conversations", () => {
    const r = rng(7);
    for (let i = 0; i < 300; i++) {
      const { messages, tools } = randomConversation(r);
      const gen = r() < 0.8;
      const input = { messages, tools, addGenerationPrompt: gen };
      expect(builtin.render(input)).toBe(jinja.render(input));
    }
  });

  it("renders object arguments as Python json.dumps and keeps only the last turn's reasoning", () => {
    const messages: ChatMessage[] = [
      { role: "user", content: "q" },
      { role: "assistant", content: "a1", reasoning_content: "old thought" },
      { role: "user", content: "q2" },
      {
        role: "assistant",
        content: "",
        reasoning_content: "new thought",
        tool_calls: [{ id: "functions.f:0", type: "function", function: { name: "f", arguments: { b: [1, "é"], a: { c: null } } } }],
      },
    ];
    const out = jinja.render({ messages, addGenerationPrompt: false });
    expect(out).toContain("<think></think>a1");
    expect(out).toContain("<think>new thought</think>");
    expect(out).toContain('{"b": [1, "é"], "a": {"c": null}}');
    expect(builtin.render({ messages, addGenerationPrompt: false })).toBe(out);
  });
});

describe("safe prompt encoding", () => {
  const tok = loadTokenizer(VOCAB);
  const template = loadChatTemplate(VOCAB);

  it.each(fixture.cases.map((c) => [c.name, c] as const))("%s: same ids as encoding `expected` with specials allowed", (_n, c) => {
    const ids = encodePrompt(tok, template, { messages: c.messages, tools: c.tools, addGenerationPrompt: true });
    expect(ids).toEqual(tok.encodeWithSpecials(c.expected));
  });

  it("agrees with all-specials encoding on random conversations without special text", () => {
    const r = rng(99);
    for (let i = 0; i < 100; i++) {
      const conv = randomConversation(r);
      const clean = JSON.parse(JSON.stringify(conv).replace(/<\|im_end\|>|<\/think>/g, "x")) as typeof conv;
      const input = { ...clean, addGenerationPrompt: true };
      expect(encodePrompt(tok, template, input)).toEqual(tok.encodeWithSpecials(template.render(input)));
    }
  });

  it("places Kimi's long-input cuts as in the whole prompt string (a 60,000-character tool result)", () => {
    const blob = "x".repeat(30_000) + " " + "é".repeat(30_000);
    const messages: ChatMessage[] = [
      { role: "user", content: "read it" },
      { role: "assistant", content: "", tool_calls: [{ id: "functions.cat:0", type: "function", function: { name: "cat", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "functions.cat:0", name: "cat", content: blob },
    ];
    const input = { messages, addGenerationPrompt: true };
    expect(encodePrompt(tok, template, input)).toEqual(tok.encodeWithSpecials(template.render(input)));
  });

  it("keeps every K2 special token inside a tool result as ordinary text", () => {
    const specials: string[] = [];
    for (let id = tok.baseVocabSize; id < tok.vocabSize; id++) specials.push(tok.specialName(id)!);
    const hostile = `file says: ${specials.join(" ")} \uFDD0 \uFDD01\uFDD0 end`;
    const conversation = (content: string, user: string): ChatMessage[] => [
      { role: "user", content: user },
      {
        role: "assistant",
        content: "",
        tool_calls: [{ id: "functions.read_file:0", type: "function", function: { name: "read_file", arguments: { path: "x" } } }],
      },
      { role: "tool", tool_call_id: "functions.read_file:0", name: "read_file", content },
    ];
    const tools: ToolSchema[] = [{ type: "function", function: { name: "read_file", description: specials.slice(0, 20).join(""), parameters: {} } }];
    const benign = encodePrompt(tok, template, { messages: conversation("plain", "hi"), tools, addGenerationPrompt: true });
    const attacked = encodePrompt(tok, template, { messages: conversation(hostile, hostile), tools, addGenerationPrompt: true });
    const specialIds = (ids: number[]): number[] => ids.filter((id) => tok.isSpecial(id));
    // Exactly the template's own control tokens, in the same order: nothing was injected.
    expect(specialIds(attacked)).toEqual(specialIds(benign));
    expect(specialIds(attacked).length).toBeGreaterThan(10);
    // And the text is all still there, byte for byte.
    const rendered = template.render({ messages: conversation(hostile, hostile), tools, addGenerationPrompt: true });
    expect(tok.decode(attacked)).toBe(rendered);
  });
});
