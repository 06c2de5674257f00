// Streams one completion as `chat.completion.chunk` server-sent events, in the shape vLLM and
// OpenAI send: a role chunk, delta chunks, a chunk carrying finish_reason, optionally a usage chunk
// with no choices (stream_options.include_usage), then `data: [DONE]`.
import type { ServerResponse } from "node:http";
import type { CompletionHeader } from "./completion_ids.js";
import type { CompletionOutcome, CompletionSink } from "./completion_run.js";
import type { HttpError } from "./http_error.js";
import { errorBody } from "./http_error.js";

export class SseCompletion implements CompletionSink {
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly header: CompletionHeader,
    private readonly heartbeatMs: number,
  ) {}

  /**
   * Sends the headers at once, even while the request waits in the queue, then a comment line
   * every heartbeatMs until the stream ends: a queue wait or a long prefill (minutes for a big
   * prompt on a laptop) must not look like a dead server to clients and proxies with read
   * timeouts (Node's fetch gives up after 300 s without a byte).
   */
  open(): void {
    this.res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    this.res.flushHeaders();
    this.heartbeat = setInterval(() => {
      if (!this.res.writableEnded && !this.res.destroyed) this.res.write(": keep-alive\n\n");
    }, this.heartbeatMs);
    this.heartbeat.unref();
  }

  /** The generation starts: the role chunk opens the assistant message. */
  begin(): void {
    this.delta({ role: "assistant", content: "" });
  }

  /** The client left before generation began. */
  abandon(): void {
    clearInterval(this.heartbeat);
    if (!this.res.writableEnded && !this.res.destroyed) this.res.end();
  }

  reasoning(text: string): void {
    this.delta({ reasoning_content: text, reasoning: text });
  }

  content(text: string): void {
    this.delta({ content: text });
  }

  toolCallStart(index: number, id: string, name: string): void {
    this.delta({ tool_calls: [{ index, id, type: "function", function: { name, arguments: "" } }] });
  }

  toolCallArguments(index: number, text: string): void {
    this.delta({ tool_calls: [{ index, function: { arguments: text } }] });
  }

  finish(outcome: CompletionOutcome, includeUsage: boolean): void {
    this.chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: outcome.finishReason }]);
    if (includeUsage) this.chunk([], outcome.usage);
    this.end();
  }

  /** After the stream opened, a failure can only be reported in-band, then the stream ends. */
  fail(err: HttpError): void {
    this.write(errorBody(err.status, err.message, err.type, err.param));
    this.end();
  }

  private delta(delta: Record<string, unknown>): void {
    this.chunk([{ index: 0, delta, logprobs: null, finish_reason: null }]);
  }

  private chunk(choices: unknown[], usage?: unknown): void {
    const body: Record<string, unknown> = {
      id: this.header.id,
      object: "chat.completion.chunk",
      created: this.header.created,
      model: this.header.model,
      choices,
    };
    if (usage !== undefined) body.usage = usage;
    this.write(JSON.stringify(body));
  }

  private end(): void {
    clearInterval(this.heartbeat);
    if (!this.res.writableEnded && !this.res.destroyed) this.res.end("data: [DONE]\n\n");
  }

  private write(data: string): void {
    if (!this.res.writableEnded && !this.res.destroyed) this.res.write(`data: ${data}\n\n`);
  }
}
