// Runs one chat completion over a ChatModel and reports it through a sink, whatever the response
// shape (SSE chunks or one JSON body): reasoning, content (cut at `stop` strings), tool calls with
// response-local indices (the model numbers calls across the whole dialog; OpenAI's `index` counts
// within one message), then the finish reason and usage.
import type { ChatModel } from "../chat/chat_model.js";
import type { GenerationStats } from "../engine/types.js";
import { EngineError } from "../errors.js";
import type { ChatCompletionOptions } from "./chat_completion_request.js";
import { StopSequenceMatcher } from "./stop_sequences.js";

export interface CompletionSink {
  reasoning(text: string): void;
  content(text: string): void;
  toolCallStart(index: number, id: string, name: string): void;
  toolCallArguments(index: number, text: string): void;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

export interface CompletionOutcome {
  finishReason: "stop" | "length" | "tool_calls";
  /** The client went away (its signal aborted) before the turn finished. */
  cancelled: boolean;
  usage: Usage;
  stats: GenerationStats;
}

export function usageOf(stats: GenerationStats): Usage {
  return {
    prompt_tokens: stats.promptTokens,
    completion_tokens: stats.generatedTokens,
    total_tokens: stats.promptTokens + stats.generatedTokens,
    prompt_tokens_details: { cached_tokens: stats.reusedTokens },
  };
}

export async function runCompletion(model: ChatModel, options: ChatCompletionOptions, clientSignal: AbortSignal, sink: CompletionSink): Promise<CompletionOutcome> {
  // Our own controller: a matched stop string ends generation without the client leaving.
  const controller = new AbortController();
  const onClientAbort = (): void => controller.abort();
  clientSignal.addEventListener("abort", onClientAbort, { once: true });
  const stop = new StopSequenceMatcher(options.stop);
  const local = new Map<number, { index: number; sent: string }>();
  let stats: GenerationStats | undefined;
  let end: "stop" | "length" | "cancelled" | "tool_calls" | undefined;
  try {
    for await (const ev of model.stream(options.request, controller.signal)) {
      switch (ev.type) {
        case "reasoning":
          if (!stop.stopped) sink.reasoning(ev.text);
          break;
        case "content": {
          const text = stop.push(ev.text);
          if (text !== "") sink.content(text);
          if (stop.stopped) controller.abort();
          break;
        }
        case "tool_call_start":
          if (stop.stopped) break;
          local.set(ev.index, { index: local.size, sent: "" });
          sink.toolCallStart(local.size - 1, ev.id, ev.name);
          break;
        case "tool_call_delta": {
          const call = local.get(ev.index);
          if (call === undefined || stop.stopped) break;
          call.sent += ev.text;
          sink.toolCallArguments(call.index, ev.text);
          break;
        }
        case "tool_call_end":
        case "tool_call_error": {
          // Arguments normally arrive as deltas; send whatever of the final raw text was not.
          const call = local.get(ev.index);
          if (call === undefined || stop.stopped) break;
          if (ev.raw.startsWith(call.sent) && ev.raw.length > call.sent.length) {
            sink.toolCallArguments(call.index, ev.raw.slice(call.sent.length));
            call.sent = ev.raw;
          }
          break;
        }
        case "stats":
          stats = ev.stats;
          break;
        case "end":
          end = ev.reason;
          break;
      }
    }
  } finally {
    clientSignal.removeEventListener("abort", onClientAbort);
  }
  const tail = stop.flush();
  if (tail !== "") sink.content(tail);
  if (stats === undefined || end === undefined) {
    throw new EngineError(`model ${model.name} ended its turn without ${stats === undefined ? "stats" : "an end event"}`);
  }
  let finishReason: CompletionOutcome["finishReason"];
  if (stop.stopped) finishReason = "stop";
  else if (end === "cancelled") finishReason = "stop";
  else if (end === "length") finishReason = "length";
  else finishReason = local.size > 0 ? "tool_calls" : end;
  return { finishReason, cancelled: end === "cancelled" && !stop.stopped, usage: usageOf(stats), stats };
}
