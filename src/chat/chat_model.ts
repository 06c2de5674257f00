// The message-level model interface the agent and the server drive. Two implementations:
// LocalChatModel (template → tokenizer → engine session → streaming parser) and the remote
// OpenAI-compatible client; both yield the same ChatEvents.
import type { SamplingOptions } from "../engine/types.js";
import type { ChatEvent } from "./events.js";
import type { ChatMessage, ToolSchema } from "./messages.js";

export interface ChatRequest {
  messages: ChatMessage[];
  tools?: ToolSchema[];
  sampling: SamplingOptions;
}

export interface ChatModel {
  /** Shown in the status line: checkpoint folder name or remote model id. */
  readonly name: string;
  /** Context window in tokens. */
  readonly contextWindow: number;
  /** Tokens the request's prompt takes (exact for local models, estimated for remote ones). */
  countTokens(messages: ChatMessage[], tools?: ToolSchema[]): Promise<number>;
  /** Streams one assistant turn. Ends with exactly one `end` event (after a `stats` event). */
  stream(request: ChatRequest, signal?: AbortSignal): AsyncIterable<ChatEvent>;
  dispose(): void;
}
