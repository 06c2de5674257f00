// A ChatModel that replays scripted assistant turns as ChatEvents and records every request.
// For agent tests that exercise the loop, tools and permissions without a tokenizer or engine;
// the K2-token-level path is covered through LocalChatModel + the scripted engine session.
import type { ChatModel, ChatRequest } from "../../src/chat/chat_model.js";
import type { ChatEvent } from "../../src/chat/events.js";
import type { ChatMessage, ToolSchema } from "../../src/chat/messages.js";
import type { GenerationStats } from "../../src/engine/types.js";

export interface ScriptedCall {
  name: string;
  /** An object is serialized as JSON; a string is passed through raw (use it for malformed JSON). */
  args: Record<string, unknown> | string;
}

export interface ScriptedTurn {
  reasoning?: string;
  content?: string;
  calls?: ScriptedCall[];
  /** Stop streaming here and wait until the request's signal aborts (for cancellation tests). */
  hang?: boolean;
  finish?: "stop" | "length";
}

export type ScriptStep = ScriptedTurn | ((request: ChatRequest, callIndex: number) => ScriptedTurn);

function chars(messages: ChatMessage[]): number {
  return messages.reduce((n, m) => n + JSON.stringify(m).length, 0);
}

export class ScriptedChatModel implements ChatModel {
  readonly name = "scripted";
  readonly requests: ChatRequest[] = [];
  private nextCallId = 0;
  private step = 0;

  constructor(
    private readonly script: ScriptStep[],
    readonly contextWindow = 100_000,
    /** Tokens per character of the JSON-serialized messages. */
    private readonly tokensPerChar = 0.25,
  ) {}

  async countTokens(messages: ChatMessage[], _tools?: ToolSchema[]): Promise<number> {
    return Math.ceil(chars(messages) * this.tokensPerChar);
  }

  async *stream(request: ChatRequest, signal?: AbortSignal): AsyncIterable<ChatEvent> {
    this.requests.push(structuredClone(request));
    const entry = this.script[this.step++];
    if (entry === undefined) throw new Error(`scripted model: no step ${this.step - 1} in the script`);
    const turn = typeof entry === "function" ? entry(request, this.step - 1) : entry;
    const promptTokens = await this.countTokens(request.messages);
    let generated = 0;
    if (turn.reasoning) {
      generated += turn.reasoning.length;
      yield { type: "reasoning", text: turn.reasoning };
    }
    if (turn.content) {
      generated += turn.content.length;
      yield { type: "content", text: turn.content };
    }
    if (turn.hang) {
      await new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve();
        signal?.addEventListener("abort", () => resolve(), { once: true });
      });
      yield { type: "stats", stats: this.stats(promptTokens, generated, "cancelled") };
      yield { type: "end", reason: "cancelled" };
      return;
    }
    let index = 0;
    for (const call of turn.calls ?? []) {
      const id = `functions.${call.name}:${this.nextCallId++}`;
      const raw = typeof call.args === "string" ? call.args : JSON.stringify(call.args);
      generated += raw.length;
      yield { type: "tool_call_start", index, id, name: call.name };
      yield { type: "tool_call_delta", index, id, text: raw };
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch (err) {
        yield { type: "tool_call_error", index, id, name: call.name, raw, message: (err as Error).message };
        index++;
        continue;
      }
      yield { type: "tool_call_end", index, id, name: call.name, arguments: parsed as Record<string, unknown>, raw };
      index++;
    }
    const reason = turn.finish ?? "stop";
    yield { type: "stats", stats: this.stats(promptTokens, Math.ceil(generated * this.tokensPerChar), reason) };
    yield { type: "end", reason: (turn.calls?.length ?? 0) > 0 ? "tool_calls" : reason };
  }

  private stats(promptTokens: number, generatedTokens: number, finishReason: GenerationStats["finishReason"]): GenerationStats {
    return {
      promptTokens,
      reusedTokens: 0,
      prefilledTokens: promptTokens,
      generatedTokens,
      prefillMs: 0,
      decodeMs: 0,
      timeToFirstTokenMs: 0,
      prefillTokPerS: 0,
      decodeTokPerS: 0,
      finishReason,
    };
  }

  dispose(): void {}
}
