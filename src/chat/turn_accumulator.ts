// Folds one turn's ChatEvents into the assistant message to append to the transcript. Arguments are
// kept as the raw text the model wrote, so re-rendering the history reproduces the generated tokens
// (and the engine can reuse its KV cache for them).
import type { ChatEvent } from "./events.js";
import type { ChatMessage, ToolCall } from "./messages.js";

export class TurnAccumulator {
  private content = "";
  private reasoning = "";
  private readonly calls = new Map<number, { id: string; name: string; raw: string }>();

  add(event: ChatEvent): void {
    switch (event.type) {
      case "content":
        this.content += event.text;
        break;
      case "reasoning":
        this.reasoning += event.text;
        break;
      case "tool_call_start":
        this.calls.set(event.index, { id: event.id, name: event.name, raw: "" });
        break;
      case "tool_call_delta": {
        const call = this.calls.get(event.index);
        if (call !== undefined) call.raw += event.text;
        break;
      }
      case "tool_call_end":
      case "tool_call_error":
        this.calls.set(event.index, { id: event.id, name: event.name, raw: event.raw });
        break;
      default:
        break;
    }
  }

  message(): Extract<ChatMessage, { role: "assistant" }> {
    const msg: Extract<ChatMessage, { role: "assistant" }> = { role: "assistant", content: this.content };
    if (this.reasoning !== "") msg.reasoning_content = this.reasoning;
    if (this.calls.size > 0) {
      msg.tool_calls = [...this.calls.values()].map(
        (c): ToolCall => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.raw } }),
      );
    }
    return msg;
  }
}
