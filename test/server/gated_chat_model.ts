// A ChatModel for server tests whose turns are scripted event lists that can be held at a gate:
// a test decides when each generation proceeds, so queueing, FIFO order and disconnect
// cancellation can be observed deterministically. Records every request and whether its signal
// aborted.
import type { ChatModel, ChatRequest } from "../../src/chat/chat_model.js";
import type { ChatEvent } from "../../src/chat/events.js";
import type { ChatMessage, ToolSchema } from "../../src/chat/messages.js";
import type { GenerationStats } from "../../src/engine/types.js";

export interface GatedTurn {
  /** Events before the gate (stats/end are appended by the model). */
  before?: ChatEvent[];
  /** Hold here until release() or the request's signal aborts. */
  gate?: boolean;
  after?: ChatEvent[];
  finish?: "stop" | "length";
  /** Throw this (as an engine failure would) after the `before` events. */
  fail?: string;
}

export interface StartedGeneration {
  request: ChatRequest;
  signal: AbortSignal | undefined;
  /** Lets a gated turn continue. */
  release(): void;
  /** Resolves when the generation has fully ended (normally or cancelled). */
  ended: Promise<"finished" | "cancelled">;
}

export class GatedChatModel implements ChatModel {
  readonly name = "gated-k2";
  readonly started: StartedGeneration[] = [];
  private readonly waiters: ((g: StartedGeneration) => void)[] = [];
  private step = 0;

  constructor(
    private readonly turns: (GatedTurn | ((request: ChatRequest) => GatedTurn))[],
    readonly contextWindow = 100_000,
  ) {}

  async countTokens(messages: ChatMessage[], tools?: ToolSchema[]): Promise<number> {
    return Math.ceil((JSON.stringify(messages).length + JSON.stringify(tools ?? []).length) / 4);
  }

  /** Resolves with the n-th generation (0-based) once it has started. */
  async nthStarted(n: number): Promise<StartedGeneration> {
    while (this.started.length <= n) await new Promise<StartedGeneration>((resolve) => this.waiters.push(resolve));
    return this.started[n]!;
  }

  async *stream(request: ChatRequest, signal?: AbortSignal): AsyncIterable<ChatEvent> {
    const entry = this.turns[this.step++];
    if (entry === undefined) throw new Error(`gated model: no turn ${this.step - 1} scripted`);
    const turn = typeof entry === "function" ? entry(request) : entry;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let ended!: (how: "finished" | "cancelled") => void;
    const started: StartedGeneration = { request: structuredClone(request), signal, release, ended: new Promise((r) => (ended = r)) };
    this.started.push(started);
    for (const w of this.waiters.splice(0)) w(started);

    const promptTokens = await this.countTokens(request.messages, request.tools);
    let generated = 0;
    const stats = (finishReason: GenerationStats["finishReason"]): ChatEvent => ({
      type: "stats",
      stats: {
        promptTokens,
        reusedTokens: 3,
        prefilledTokens: promptTokens - 3,
        generatedTokens: generated,
        prefillMs: 1,
        decodeMs: 1,
        timeToFirstTokenMs: 1,
        prefillTokPerS: 1,
        decodeTokPerS: 1,
        finishReason,
      },
    });
    try {
      for (const ev of turn.before ?? []) {
        if (signal?.aborted) break;
        generated++;
        yield ev;
      }
      if (turn.fail !== undefined) throw new Error(turn.fail);
      if (turn.gate && !signal?.aborted) {
        await Promise.race([gate, new Promise<void>((resolve) => signal?.addEventListener("abort", () => resolve(), { once: true }))]);
      }
      if (signal?.aborted) {
        yield stats("cancelled");
        yield { type: "end", reason: "cancelled" };
        ended("cancelled");
        return;
      }
      let calls = 0;
      for (const ev of turn.after ?? []) {
        if (signal?.aborted) break;
        if (ev.type === "tool_call_start") calls++;
        generated++;
        yield ev;
      }
      for (const ev of turn.before ?? []) if (ev.type === "tool_call_start") calls++;
      const cancelled = signal?.aborted === true;
      const reason = cancelled ? "cancelled" : (turn.finish ?? "stop");
      yield stats(reason);
      yield { type: "end", reason: !cancelled && calls > 0 && reason === "stop" ? "tool_calls" : reason };
      ended(cancelled ? "cancelled" : "finished");
    } finally {
      ended("cancelled");
    }
  }

  dispose(): void {}
}

/** A complete tool call as the local parser emits it: start, argument deltas, end. */
export function toolCallEvents(index: number, name: string, args: Record<string, unknown>, pieces = 3): ChatEvent[] {
  const id = `functions.${name}:${index}`;
  const raw = JSON.stringify(args);
  const step = Math.ceil(raw.length / pieces);
  const out: ChatEvent[] = [{ type: "tool_call_start", index, id, name }];
  for (let i = 0; i < raw.length; i += step) out.push({ type: "tool_call_delta", index, id, text: raw.slice(i, i + step) });
  out.push({ type: "tool_call_end", index, id, name, arguments: args, raw });
  return out;
}
