// Compaction: when the conversation nears the context window, older messages are replaced by a
// summary the model writes itself; the most recent messages stay verbatim. The cut never
// separates a tool result from the call that produced it, and the current user request is kept.
import type { ChatModel } from "../../chat/chat_model.js";
import type { ChatMessage } from "../../chat/messages.js";
import type { SamplingOptions } from "../../engine/types.js";
import { K2Error } from "../../errors.js";

export const DEFAULT_COMPACT_THRESHOLD = 0.85;
/** Share of the window the kept recent messages may take. */
const KEEP_FRACTION = 0.25;
/** A thinking model reasons before it answers: leave room for both. */
const SUMMARY_MAX_TOKENS = 8192;
/** Characters of older transcript shown to the summarizer per tool result. */
const TOOL_RESULT_CHARS = 1500;

export const SUMMARY_PREFIX = "[Summary of the earlier part of this conversation, written when the context was compacted]";

function messageText(m: ChatMessage): string {
  switch (m.role) {
    case "system":
      return `SYSTEM: ${m.content}`;
    case "user":
      return `USER: ${typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join("")}`;
    case "assistant": {
      const calls = (m.tool_calls ?? []).map((c) => `  -> ${c.function.name}(${typeof c.function.arguments === "string" ? c.function.arguments : JSON.stringify(c.function.arguments)})`);
      return [`ASSISTANT: ${m.content}`, ...calls].join("\n");
    }
    case "tool": {
      const body = m.content.length > TOOL_RESULT_CHARS ? `${m.content.slice(0, TOOL_RESULT_CHARS)}… [${m.content.length - TOOL_RESULT_CHARS} more chars]` : m.content;
      return `TOOL RESULT (${m.name}): ${body}`;
    }
  }
}

/** Index of the first kept message: a user or assistant message, so no tool result is orphaned. */
export function chooseCut(messages: ChatMessage[], sizes: number[], keepBudget: number): number {
  let kept = 0;
  let cut = messages.length;
  for (let i = messages.length - 1; i >= 1; i--) {
    kept += sizes[i]!;
    if (kept > keepBudget) break;
    if (messages[i]!.role !== "tool") cut = i;
  }
  return cut;
}

export interface CompactionResult {
  messages: ChatMessage[];
  summary: string;
  summarizedCount: number;
}

export async function compactMessages(options: {
  model: ChatModel;
  systemPrompt: string;
  messages: ChatMessage[];
  sampling: SamplingOptions;
  focus?: string;
  signal?: AbortSignal;
}): Promise<CompactionResult> {
  const { model, messages } = options;
  const texts = messages.map(messageText);
  // Characters as a proxy for tokens when choosing the cut; the exact count follows afterwards.
  const sizes = texts.map((t) => Math.ceil(t.length / 3));
  const cut = chooseCut(messages, sizes, model.contextWindow * KEEP_FRACTION);
  const older = messages.slice(0, cut);
  const kept = messages.slice(cut);
  if (older.length === 0) return { messages, summary: "", summarizedCount: 0 };

  // Leave room for the summary itself; the oldest text goes first if the transcript is too long.
  const budgetChars = Math.max(4000, Math.floor(model.contextWindow * 0.6) * 3);
  let transcript = older.map(messageText).join("\n\n");
  if (transcript.length > budgetChars) transcript = `[… earliest part omitted …]\n${transcript.slice(transcript.length - budgetChars)}`;

  const lastUser = [...messages.keys()].reverse().find((i) => messages[i]!.role === "user");
  const request: ChatMessage[] = [
    {
      role: "system",
      content:
        "You compress a coding session so the work can continue in a fresh context. Write a concise summary that lets the assistant continue without the original messages: the user's requests (quote the current one verbatim), decisions made, files read and changed (with paths), commands run and their outcomes, errors still open, and the next steps. Use plain text or short bullet lists.",
    },
    {
      role: "user",
      content: `Summarize this conversation.${options.focus ? ` Focus especially on: ${options.focus}.` : ""}\n\n<conversation>\n${transcript}\n</conversation>`,
    },
  ];
  let summary = "";
  for await (const ev of model.stream({ messages: request, sampling: { ...options.sampling, maxTokens: Math.min(options.sampling.maxTokens ?? SUMMARY_MAX_TOKENS, SUMMARY_MAX_TOKENS) } }, options.signal)) {
    if (ev.type === "content") summary += ev.text;
  }
  summary = summary.trim();
  if (summary === "") throw new K2Error("compaction failed: the model returned an empty summary");
  const out: ChatMessage[] = [{ role: "user", content: `${SUMMARY_PREFIX}\n${summary}` }];
  // The request being worked on stays verbatim when the cut falls inside its turn.
  if (lastUser !== undefined && lastUser < cut) out.push(messages[lastUser]!);
  out.push(...kept);
  return { messages: out, summary, summarizedCount: older.length };
}
