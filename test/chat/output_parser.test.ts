import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadChatTemplate } from "../../src/chat/chat_template.js";
import type { ChatMessage, ToolSchema } from "../../src/chat/messages.js";
import { K2OutputParser, type ParsedEvent } from "../../src/chat/output_parser.js";
import { encodePrompt } from "../../src/chat/prompt_encoder.js";
import { pythonJson } from "../../src/chat/python_json.js";
import { loadTokenizer } from "../../src/chat/tokenizer.js";
import { TurnAccumulator } from "../../src/chat/turn_accumulator.js";

const VOCAB = "../shared/vocab/kimi-k2";
const tok = loadTokenizer(VOCAB);
const template = loadChatTemplate(VOCAB);
const fixture = JSON.parse(readFileSync("../shared/fixtures/chat/k2-thinking-template.json", "utf8")) as {
  cases: { name: string; messages: ChatMessage[]; tools?: ToolSchema[]; expected: string }[];
};

function parseIds(ids: number[], firstToolIndex = 0): { events: ParsedEvent[]; parser: K2OutputParser } {
  const parser = new K2OutputParser(tok, { firstToolIndex });
  const events: ParsedEvent[] = [];
  for (const id of ids) events.push(...parser.push(id));
  events.push(...parser.finish());
  return { events, parser };
}

/** Model output written as text; special-token names become their ids. */
function parse(output: string, firstToolIndex = 0): ParsedEvent[] {
  return parseIds(tok.encodeWithSpecials(output), firstToolIndex).events;
}

function fold(events: ParsedEvent[]): ChatMessage {
  const acc = new TurnAccumulator();
  for (const e of events) acc.add(e);
  return acc.message();
}

// The ids of assistant message `i` exactly as the template renders it in the conversation, from
// after its `<|im_assistant|>NAME<|im_middle|>` through `<|im_end|>`.
function renderedTurn(messages: ChatMessage[], tools: ToolSchema[] | undefined, i: number): number[] {
  const upto = encodePrompt(tok, template, { messages: messages.slice(0, i + 1), tools, addGenerationPrompt: false });
  const middle = tok.specialId("<|im_middle|>");
  // Message i is the last one rendered, right after the last assistant header.
  const start = upto.lastIndexOf(tok.specialId("<|im_assistant|>"));
  expect(start).toBeGreaterThanOrEqual(0);
  const body = upto.slice(upto.indexOf(middle, start) + 1);
  expect(body[body.length - 1]).toBe(tok.specialId("<|im_end|>"));
  return body;
}

describe("K2 output parser", () => {
  it("recovers reasoning, content and tool calls from the fixtures' rendered assistant turns", () => {
    let checked = 0;
    for (const c of fixture.cases) {
      c.messages.forEach((m, i) => {
        if (m.role !== "assistant") return;
        const ids = renderedTurn(c.messages, c.tools, i);
        const { events, parser } = parseIds(ids, 0);
        expect(parser.turnEnded).toBe(true);
        const recovered = fold(events);
        // Putting the recovered message back renders the conversation byte for byte.
        const replaced = [...c.messages.slice(0, i), recovered];
        expect(template.render({ messages: replaced, tools: c.tools, addGenerationPrompt: false })).toBe(
          template.render({ messages: c.messages.slice(0, i + 1), tools: c.tools, addGenerationPrompt: false }),
        );
        expect(recovered.content).toBe(m.content);
        checked++;
      });
    }
    expect(checked).toBe(2);
  });

  it("parses the fixture's tool-call turn into typed events", () => {
    const c = fixture.cases.find((x) => x.name === "tool-call-round-trip")!;
    const events = parseIds(renderedTurn(c.messages, c.tools, 1)).events;
    expect(events.filter((e) => e.type === "reasoning").map((e) => (e as { text: string }).text).join("")).toBe("I should read the file.");
    expect(events.find((e) => e.type === "tool_call_start")).toEqual({ type: "tool_call_start", index: 0, id: "functions.read_file:0", name: "read_file" });
    expect(events.find((e) => e.type === "tool_call_end")).toEqual({
      type: "tool_call_end",
      index: 0,
      id: "functions.read_file:0",
      name: "read_file",
      arguments: { path: "package.json" },
      raw: '{"path": "package.json"}',
    });
    expect(events.some((e) => e.type === "content")).toBe(false);
  });

  it("streams arguments as deltas that add up to the raw text", () => {
    const events = parse('<think>r</think><|tool_calls_section_begin|><|tool_call_begin|>functions.edit:3<|tool_call_argument_begin|>{"path": "src/a.ts", "text": "多字节 🚀"}<|tool_call_end|><|tool_calls_section_end|><|im_end|>', 3);
    const deltas = events.filter((e) => e.type === "tool_call_delta");
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.map((e) => (e as { text: string }).text).join("")).toBe('{"path": "src/a.ts", "text": "多字节 🚀"}');
    expect(deltas.every((e) => e.index === 3 && e.id === "functions.edit:3")).toBe(true);
  });

  it("treats a tool-call section opened before </think> as the end of reasoning", () => {
    const msg = fold(parse('<think>need to look<|tool_calls_section_begin|><|tool_call_begin|>functions.ls:0<|tool_call_argument_begin|>{}<|tool_call_end|><|tool_calls_section_end|><|im_end|>'));
    expect(msg).toEqual({
      role: "assistant",
      content: "",
      reasoning_content: "need to look",
      tool_calls: [{ id: "functions.ls:0", type: "function", function: { name: "ls", arguments: "{}" } }],
    });
  });

  it("handles text before a section and several parallel calls, with dialog-wide indices", () => {
    const events = parse(
      '<think>plan</think>Let me check both.<|tool_calls_section_begin|><|tool_call_begin|>functions.read_file:5<|tool_call_argument_begin|>{"path": "a"}<|tool_call_end|><|tool_call_begin|>functions.run_shell:6<|tool_call_argument_begin|>{"command": "ls -la"}<|tool_call_end|><|tool_calls_section_end|><|im_end|>',
      5,
    );
    const ends = events.filter((e) => e.type === "tool_call_end");
    expect(ends.map((e) => [e.index, e.id, e.name, e.arguments])).toEqual([
      [5, "functions.read_file:5", "read_file", { path: "a" }],
      [6, "functions.run_shell:6", "run_shell", { command: "ls -la" }],
    ]);
    expect(fold(events).content).toBe("Let me check both.");
  });

  it("reports malformed, non-object and empty arguments as errors carrying the raw text", () => {
    const events = parse(
      '<|tool_calls_section_begin|><|tool_call_begin|>functions.a:0<|tool_call_argument_begin|>{"x": 1,<|tool_call_end|><|tool_call_begin|>functions.b:1<|tool_call_argument_begin|>[1, 2]<|tool_call_end|><|tool_call_begin|>functions.c:2<|tool_call_argument_begin|><|tool_call_end|><|tool_calls_section_end|><|im_end|>',
    );
    const errors = events.filter((e) => e.type === "tool_call_error");
    expect(errors.map((e) => [e.name, e.raw])).toEqual([
      ["a", '{"x": 1,'],
      ["b", "[1, 2]"],
      ["c", ""],
    ]);
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/not valid JSON/), expect.stringMatching(/must be a JSON object, got an array/), expect.stringMatching(/empty/)]);
  });

  it("numbers a call itself when the model writes an id without K2's shape", () => {
    const events = parse("<|tool_calls_section_begin|><|tool_call_begin|>read_file<|tool_call_argument_begin|>{}<|tool_call_end|><|tool_calls_section_end|>", 4);
    expect(events.find((e) => e.type === "tool_call_start")).toEqual({ type: "tool_call_start", index: 4, id: "functions.read_file:4", name: "read_file" });
  });

  it("survives every truncation point of a tool-call turn", () => {
    const ids = tok.encodeWithSpecials(
      '<think>Look at both 文件.</think>Checking.<|tool_calls_section_begin|><|tool_call_begin|>functions.read_file:0<|tool_call_argument_begin|>{"path": "a 🚀.ts"}<|tool_call_end|><|tool_call_begin|>functions.grep:1<|tool_call_argument_begin|>{"pattern": "x"}<|tool_call_end|><|tool_calls_section_end|><|im_end|>',
    );
    for (let k = 0; k <= ids.length; k++) {
      const { events } = parseIds(ids.slice(0, k));
      // Every started call is closed exactly once, by an end or an error.
      const started = events.filter((e) => e.type === "tool_call_start").map((e) => e.index);
      const closed = events.filter((e) => e.type === "tool_call_end" || e.type === "tool_call_error").map((e) => e.index);
      expect(closed).toEqual(started);
      for (const e of events) {
        if (e.type === "tool_call_error") expect(ids.slice(0, k)).not.toContain(tok.specialId("<|im_end|>"));
      }
      // Whatever text made it out is a prefix of the full turn's text.
      const msg = fold(events) as { content: string; reasoning_content?: string };
      expect("Checking.".startsWith(msg.content)).toBe(true);
      expect("Look at both 文件.".startsWith(msg.reasoning_content ?? "")).toBe(true);
    }
  });

  it("keeps markup-looking ordinary text as content and shows stray specials by name", () => {
    const ids = [...tok.encodeOrdinary("a <|tool_call_begin|> b"), tok.specialId("<|im_user|>"), tok.specialId("<|im_end|>")];
    const { events, parser } = parseIds([...ids, ...tok.encodeOrdinary("after end")]);
    expect(fold(events).content).toBe("a <|tool_call_begin|> b<|im_user|>");
    expect(parser.turnEnded).toBe(true);
    expect(parser.toolCallCount).toBe(0);
  });

  it("recovers random assistant turns through the real template, token by token", () => {
    const specials = ["<|im_end|>", "</think>", "<|tool_call_begin|>"];
    for (let i = 0; i < 40; i++) {
      const text = (k: number): string => `t${i}-${k} ${specials[(i + k) % 3]} 多 🚀 "q"\n`;
      const messages: ChatMessage[] = [
        { role: "user", content: text(0) },
        {
          role: "assistant",
          content: i % 2 === 0 ? text(1) : "",
          reasoning_content: text(2),
          tool_calls: [
            { id: `functions.f:${i}`, type: "function", function: { name: "f", arguments: { s: text(3), n: i } } },
            { id: `functions.g:${i + 1}`, type: "function", function: { name: "g", arguments: JSON.stringify({ s: text(4) }) } },
          ],
        },
      ];
      const { events } = parseIds(renderedTurn(messages, undefined, 1), i);
      const msg = fold(events) as Extract<ChatMessage, { role: "assistant" }>;
      expect(msg.reasoning_content).toBe(text(2));
      expect(msg.content).toBe(messages[1]!.content);
      expect(msg.tool_calls!.map((c) => [c.id, c.function.arguments])).toEqual([
        [`functions.f:${i}`, pythonJson({ s: text(3), n: i })],
        [`functions.g:${i + 1}`, JSON.stringify({ s: text(4) })],
      ]);
      expect(events.filter((e) => e.type === "tool_call_end").map((e) => (e as { arguments: unknown }).arguments)).toEqual([{ s: text(3), n: i }, { s: text(4) }]);
    }
  });
});
