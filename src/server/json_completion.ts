// Accumulates one completion into the non-streaming `chat.completion` object. Reasoning is given
// under both names clients look for: `reasoning_content` (vLLM, SGLang, Moonshot) and `reasoning`
// (newer vLLM, OpenRouter).
import type { CompletionHeader } from "./completion_ids.js";
import type { CompletionOutcome, CompletionSink } from "./completion_run.js";

interface ToolCallOut {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export class JsonCompletion implements CompletionSink {
  private reasoningText = "";
  private contentText = "";
  private readonly calls: ToolCallOut[] = [];

  constructor(private readonly header: CompletionHeader) {}

  reasoning(text: string): void {
    this.reasoningText += text;
  }

  content(text: string): void {
    this.contentText += text;
  }

  toolCallStart(index: number, id: string, name: string): void {
    this.calls[index] = { id, type: "function", function: { name, arguments: "" } };
  }

  toolCallArguments(index: number, text: string): void {
    const call = this.calls[index];
    if (call !== undefined) call.function.arguments += text;
  }

  body(outcome: CompletionOutcome): Record<string, unknown> {
    const message: Record<string, unknown> = {
      role: "assistant",
      content: this.contentText === "" && this.calls.length > 0 ? null : this.contentText,
    };
    if (this.reasoningText !== "") {
      message.reasoning_content = this.reasoningText;
      message.reasoning = this.reasoningText;
    }
    if (this.calls.length > 0) message.tool_calls = this.calls;
    return {
      id: this.header.id,
      object: "chat.completion",
      created: this.header.created,
      model: this.header.model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: outcome.finishReason }],
      usage: outcome.usage,
    };
  }
}
