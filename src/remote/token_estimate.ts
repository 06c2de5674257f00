// Prompt-size estimate for a remote model, whose tokenizer we do not have. Calibrated to Kimi's
// tokenizer on mixed text: about 4 characters per token for ASCII, 1.5 for CJK and other scripts,
// plus the template's few tokens of framing per message.
import type { ChatMessage, ToolSchema } from "../chat/messages.js";

const PER_MESSAGE = 4;
const FIXED = 10;

export function estimateTextTokens(text: string): number {
  let ascii = 0;
  let other = 0;
  for (const ch of text) {
    if (ch.charCodeAt(0) < 128) ascii++;
    else other++;
  }
  return Math.ceil(ascii / 4 + other / 1.5);
}

export function estimatePromptTokens(messages: readonly ChatMessage[], tools?: readonly ToolSchema[]): number {
  let n = FIXED;
  for (const m of messages) {
    n += PER_MESSAGE;
    const content = typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join("");
    n += estimateTextTokens(content);
    if (m.role === "assistant") {
      if (m.reasoning_content !== undefined) n += estimateTextTokens(m.reasoning_content);
      for (const c of m.tool_calls ?? []) n += estimateTextTokens(c.id + c.function.name + JSON.stringify(c.function.arguments));
    }
    if (m.role === "tool") n += estimateTextTokens(m.tool_call_id);
  }
  if (tools !== undefined && tools.length > 0) n += estimateTextTokens(JSON.stringify(tools));
  return n;
}
