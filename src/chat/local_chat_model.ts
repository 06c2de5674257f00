// ChatModel over a local engine session: messages → template → safe prompt ids → session.generate
// → streaming decoder + K2 output parser → ChatEvents. The session reuses its KV-cache prefix, so
// each turn only prefills what changed.
import type { EngineSession, GenerationStats } from "../engine/types.js";
import { EngineError, K2Error } from "../errors.js";
import type { ChatModel, ChatRequest } from "./chat_model.js";
import type { ChatTemplate } from "./chat_template.js";
import type { ChatEvent } from "./events.js";
import type { ChatMessage, ToolSchema } from "./messages.js";
import { K2OutputParser } from "./output_parser.js";
import { IncrementalPromptEncoder } from "./incremental_prompt_encoder.js";
import type { K2Tokenizer } from "./tokenizer.js";

export interface LocalChatModelOptions {
  name: string;
  contextWindow: number;
  session: EngineSession;
  tokenizer: K2Tokenizer;
  template: ChatTemplate;
}

export class LocalChatModel implements ChatModel {
  readonly name: string;
  readonly contextWindow: number;
  private readonly session: EngineSession;
  private readonly tokenizer: K2Tokenizer;
  /** Remembers each message's ids, so a step of a long tool chain encodes only what is new. */
  readonly encoder: IncrementalPromptEncoder;

  constructor(options: LocalChatModelOptions) {
    this.name = options.name;
    this.contextWindow = options.contextWindow;
    this.session = options.session;
    this.tokenizer = options.tokenizer;
    this.encoder = new IncrementalPromptEncoder(options.tokenizer, options.template);
  }

  /** Exact: the ids of the prompt stream() would send, generation prompt included. */
  async countTokens(messages: ChatMessage[], tools?: ToolSchema[]): Promise<number> {
    return this.promptIds(messages, tools).length;
  }

  /** The prompt ids for a request (exposed for diagnostics and tests). */
  promptIds(messages: readonly ChatMessage[], tools?: readonly ToolSchema[]): number[] {
    return this.encoder.encode({
      messages,
      tools: tools !== undefined && tools.length > 0 ? tools : undefined,
      addGenerationPrompt: true,
    });
  }

  async *stream(request: ChatRequest, signal?: AbortSignal): AsyncIterable<ChatEvent> {
    const prompt = this.promptIds(request.messages, request.tools);
    if (prompt.length >= this.contextWindow) {
      throw new K2Error(`the prompt takes ${prompt.length} tokens; the context window holds ${this.contextWindow} (compact or shorten the conversation)`);
    }
    const stopIds = [...new Set([...(request.sampling.stopIds ?? []), ...this.tokenizer.stopIds])];
    const parser = new K2OutputParser(this.tokenizer, { firstToolIndex: countToolCalls(request.messages), stopIds });
    let stats: GenerationStats | undefined;
    for await (const ev of this.session.generate(prompt, { ...request.sampling, stopIds }, signal)) {
      if (ev.type === "token") {
        yield* parser.push(ev.id);
      } else {
        stats = ev.stats;
      }
    }
    yield* parser.finish();
    if (stats === undefined) {
      // The EngineSession contract ends every stream with `done`; a session that does not is broken.
      throw new EngineError("engine session ended its token stream without a done event");
    }
    yield { type: "stats", stats };
    const reason = stats.finishReason === "stop" && parser.toolCallCount > 0 ? "tool_calls" : stats.finishReason;
    yield { type: "end", reason };
  }

  dispose(): void {
    this.session.dispose();
  }
}

/** Tool calls already made in the dialog: the next call's IDX in `functions.NAME:IDX`. */
export function countToolCalls(messages: readonly ChatMessage[]): number {
  let n = 0;
  for (const m of messages) if (m.role === "assistant" && m.tool_calls !== undefined) n += m.tool_calls.length;
  return n;
}
