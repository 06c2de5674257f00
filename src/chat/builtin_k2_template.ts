// The K2 Thinking chat template written out in TypeScript, for checkpoints that ship no
// chat_template.jinja, and message by message for incremental prompt encoding when a checkpoint
// ships exactly the official template (chat_template.ts recognises it). It produces the same strings as rendering the official template (a test
// renders random conversations through both), including its quirks: a tool message's role line
// uses its `name`, reasoning before the last plain assistant answer is dropped, image parts render
// the template's `<|media_start|>` markup verbatim.
import { pythonJson } from "./python_json.js";

type Loose = Record<string, unknown>;

const DEFAULT_SYSTEM = "You are Kimi, an AI assistant created by Moonshot AI.";

export const K2_GENERATION_PROMPT = "<|im_assistant|>assistant<|im_middle|>";

export function renderBuiltinK2(messages: readonly unknown[], tools: readonly unknown[] | undefined, addGenerationPrompt: boolean): string {
  const msgs = messages.map(asLoose);
  const lastAnswer = lastFinalAnswer(msgs);
  let out = renderK2Header(tools, msgs[0]);
  msgs.forEach((m, i) => {
    out += renderK2Message(m, i > lastAnswer);
  });
  if (addGenerationPrompt) out += K2_GENERATION_PROMPT;
  return out;
}

/**
 * Index of the last assistant message that is a final answer (no tool calls), or -1. Reasoning is
 * kept only in messages after it, so appending messages re-renders nothing before the newest final
 * answer unless a new final answer is appended.
 */
export function lastFinalAnswer(messages: readonly unknown[]): number {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = asLoose(messages[i]);
    if (m["role"] === "assistant" && !truthy(m["tool_calls"])) return i;
  }
  return -1;
}

/** Tool declarations (tools already deep-sorted) and the default system prompt when the first message is not a system one. */
export function renderK2Header(tools: readonly unknown[] | undefined, firstMessage: unknown): string {
  let out = "";
  if (tools !== undefined && tools.length > 0) out += `<|im_system|>tool_declare<|im_middle|>${pythonJson(tools)}<|im_end|>`;
  if (firstMessage === undefined || asLoose(firstMessage)["role"] !== "system") out += `<|im_system|>system<|im_middle|>${DEFAULT_SYSTEM}<|im_end|>`;
  return out;
}

/** One message, from its role marker to its `<|im_end|>`. */
export function renderK2Message(message: unknown, keepReasoning: boolean): string {
  const m = asLoose(message);
  let out = roleHeader(m);
  if (m["role"] === "assistant") {
    const reasoning = keepReasoning ? str("reasoning_content" in m ? m["reasoning_content"] : "") : "";
    out += `<think>${reasoning}</think>${renderContent(m["content"])}`;
    if (truthy(m["tool_calls"])) out += renderToolCalls(m["tool_calls"]);
  } else if (m["role"] === "tool") {
    out += `## Return of ${str(m["tool_call_id"])}\n${renderContent(m["content"])}`;
  } else if (m["content"] !== null && m["content"] !== undefined) {
    out += renderContent(m["content"]);
  }
  return out + "<|im_end|>";
}

function asLoose(m: unknown): Loose {
  return m !== null && typeof m === "object" ? (m as Loose) : {};
}

function roleHeader(m: Loose): string {
  const name = truthy(m["name"]) ? str(m["name"]) : str(m["role"]);
  if (m["role"] === "user") return `<|im_user|>${name}<|im_middle|>`;
  if (m["role"] === "assistant") return `<|im_assistant|>${name}<|im_middle|>`;
  return `<|im_system|>${name}<|im_middle|>`;
}

function renderContent(c: unknown): string {
  if (typeof c === "string") return c;
  if (!Array.isArray(c)) return "";
  let out = "";
  for (const part of c) {
    const p = part !== null && typeof part === "object" ? (part as Loose) : {};
    if (p["type"] === "image" || "image" in p || "image_url" in p) {
      out += "<|media_start|>image<|media_content|><|media_pad|><|media_end|>\n";
    } else {
      out += str(p["text"]);
    }
  }
  return out;
}

function renderToolCalls(calls: unknown): string {
  let out = "<|tool_calls_section_begin|>";
  for (const call of calls as unknown[]) {
    const c = call !== null && typeof call === "object" ? (call as Loose) : {};
    const fn = (c["function"] ?? {}) as Loose;
    const args = fn["arguments"];
    out += `<|tool_call_begin|>${str(c["id"])}<|tool_call_argument_begin|>${typeof args === "string" ? args : pythonJson(args)}<|tool_call_end|>`;
  }
  return out + "<|tool_calls_section_end|>";
}

// How the Jinja engine prints a value with {{ }}: missing/null print nothing.
function str(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return pythonJson(v);
}

// Jinja truthiness: empty strings, arrays and objects are false.
function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return true;
}
