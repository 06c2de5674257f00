// Streamed `delta` objects → ChatEvents, the same events LocalChatModel emits. Reasoning arrives as
// `reasoning_content` (vLLM/SGLang/Moonshot) or `reasoning` (newer vLLM, OpenRouter); a server may
// send both with the same text, so one is taken per delta. Tool calls arrive split across chunks
// by `index`: the first piece carries id and name, later ones argument text. A call ends when the
// turn ends; its arguments are parsed then.
import type { ChatEvent } from "../chat/events.js";

interface CallState {
  eventIndex: number;
  id: string | undefined;
  name: string;
  raw: string;
  started: boolean;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

export class DeltaTranslator {
  private readonly calls = new Map<number, CallState>();

  /** @param firstToolIndex tool calls already in the dialog: event indices continue from there, as the local model's do. */
  constructor(private readonly firstToolIndex: number) {}

  get toolCallCount(): number {
    return this.calls.size;
  }

  delta(delta: unknown): ChatEvent[] {
    if (typeof delta !== "object" || delta === null) return [];
    const d = delta as Record<string, unknown>;
    const out: ChatEvent[] = [];
    const reasoning = str(d.reasoning_content) ?? str(d.reasoning);
    if (reasoning !== undefined) out.push({ type: "reasoning", text: reasoning });
    const content = str(d.content);
    if (content !== undefined) out.push({ type: "content", text: content });
    if (Array.isArray(d.tool_calls)) {
      d.tool_calls.forEach((tc: unknown, position: number) => this.toolDelta(tc, position, out));
    }
    return out;
  }

  private toolDelta(tc: unknown, position: number, out: ChatEvent[]): void {
    if (typeof tc !== "object" || tc === null) return;
    const t = tc as { index?: unknown; id?: unknown; function?: { name?: unknown; arguments?: unknown } };
    const key = typeof t.index === "number" ? t.index : position;
    let call = this.calls.get(key);
    if (call === undefined) {
      call = { eventIndex: this.firstToolIndex + this.calls.size, id: undefined, name: "", raw: "", started: false };
      this.calls.set(key, call);
    }
    call.id ??= str(t.id);
    const name = str(t.function?.name);
    if (name !== undefined && !call.started) call.name += name;
    const args = typeof t.function?.arguments === "string" ? t.function.arguments : "";
    const before = call.raw.length;
    call.raw += args;
    if (!call.started && call.name !== "") {
      call.started = true;
      call.id ??= `functions.${call.name}:${call.eventIndex}`;
      out.push({ type: "tool_call_start", index: call.eventIndex, id: call.id, name: call.name });
      if (call.raw !== "") out.push({ type: "tool_call_delta", index: call.eventIndex, id: call.id, text: call.raw });
    } else if (call.started && args !== "" && call.raw.length > before) {
      out.push({ type: "tool_call_delta", index: call.eventIndex, id: call.id!, text: args });
    }
  }

  /** At the end of the turn: one tool_call_end (or tool_call_error) per call, in index order. */
  finish(): ChatEvent[] {
    const out: ChatEvent[] = [];
    for (const call of [...this.calls.values()].sort((a, b) => a.eventIndex - b.eventIndex)) {
      const id = call.id ?? `functions.unnamed:${call.eventIndex}`;
      if (!call.started) {
        out.push({ type: "tool_call_error", index: call.eventIndex, id, name: "", raw: call.raw, message: "the server sent a tool call without a function name" });
        continue;
      }
      const text = call.raw.trim();
      let parsed: unknown;
      try {
        // A function without parameters may stream no argument text at all.
        parsed = text === "" ? {} : JSON.parse(text);
      } catch (err) {
        out.push({ type: "tool_call_error", index: call.eventIndex, id, name: call.name, raw: call.raw, message: `arguments are not valid JSON: ${(err as Error).message}` });
        continue;
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        out.push({ type: "tool_call_error", index: call.eventIndex, id, name: call.name, raw: call.raw, message: "arguments must be a JSON object" });
        continue;
      }
      out.push({ type: "tool_call_end", index: call.eventIndex, id, name: call.name, arguments: parsed as Record<string, unknown>, raw: call.raw });
    }
    return out;
  }
}
