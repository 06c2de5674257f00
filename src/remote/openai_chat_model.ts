// ChatModel over a remote OpenAI-compatible server (vLLM, SGLang, exo, MLX, Moonshot, `k2 serve`):
// POST {endpoint}/chat/completions with stream: true, SSE deltas → the same ChatEvents the local
// engine produces. fetch only (no SDK at runtime). Failures before any output reached the caller
// (refused connections, 429/502/503/504, a stream that broke before its first delta) are retried
// with backoff; after output has streamed a failure is reported, never replayed.
import type { ChatModel, ChatRequest } from "../chat/chat_model.js";
import type { ChatEvent } from "../chat/events.js";
import { countToolCalls } from "../chat/local_chat_model.js";
import type { ChatMessage, ToolSchema } from "../chat/messages.js";
import type { GenerationStats } from "../engine/types.js";
import { DeltaTranslator } from "./delta_translator.js";
import { openAIRequestBody } from "./openai_request_body.js";
import { RemoteModelError, describeFetchError } from "./remote_error.js";
import { DEFAULT_RETRY, RETRYABLE_STATUS, connectErrorCode, retryDelayMs, sleep, type RetryOptions } from "./retry_policy.js";
import { readSse } from "./sse_reader.js";
import { estimatePromptTokens } from "./token_estimate.js";

export interface OpenAIChatModelOptions {
  /** API base URL, normalized (…/v1). */
  endpoint: string;
  model: string;
  apiKey?: string;
  contextWindow: number;
  retry?: Partial<RetryOptions>;
  /** Give up on a response that sends no byte for this long. Default 280 s: just under Node
   *  fetch's own 300 s body timeout, so the clearer message wins. k2 serve sends keep-alives. */
  idleTimeoutMs?: number;
  fetch?: typeof fetch;
}

interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
}

interface Part {
  delta: unknown;
  usage?: Usage;
  finish?: string;
  /** The server marked the response complete ([DONE], or a whole JSON answer). */
  done: boolean;
}

class IdleTimeout extends Error {}

export class OpenAIChatModel implements ChatModel {
  readonly name: string;
  readonly contextWindow: number;
  private readonly retry: RetryOptions;
  private readonly idleTimeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly options: OpenAIChatModelOptions) {
    this.name = options.model;
    this.contextWindow = options.contextWindow;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.idleTimeoutMs = options.idleTimeoutMs ?? 280_000;
    this.fetchFn = options.fetch ?? fetch;
  }

  /** Estimated: the remote tokenizer is not available here. */
  async countTokens(messages: ChatMessage[], tools?: ToolSchema[]): Promise<number> {
    return estimatePromptTokens(messages, tools);
  }

  async *stream(request: ChatRequest, signal?: AbortSignal): AsyncIterable<ChatEvent> {
    const t0 = performance.now();
    // Aborted by the caller, by an idle stream, or when the consumer stops iterating early.
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal?.reason);
    if (signal?.aborted) controller.abort(signal.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    const cancelled = (): boolean => signal?.aborted === true;
    let idle: NodeJS.Timeout | undefined;
    const armIdle = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => controller.abort(new IdleTimeout()), this.idleTimeoutMs);
    };

    const firstToolIndex = countToolCalls(request.messages);
    let translator = new DeltaTranslator(firstToolIndex);
    let usage: Usage | undefined;
    let finish: string | undefined;
    let firstAt: number | undefined;
    let generatedChars = 0;
    try {
      for (let attempt = 0; ; attempt++) {
        const res = await this.connect(request, controller.signal);
        if (res === null) {
          yield* this.ending(request, t0, t0, undefined, 0, "cancelled", translator);
          return;
        }
        let sawDone = false;
        let broken: RemoteModelError | undefined;
        armIdle();
        try {
          for await (const part of this.parts(res, armIdle)) {
            armIdle();
            if (part.usage !== undefined) usage = part.usage;
            for (const e of translator.delta(part.delta)) {
              firstAt ??= performance.now();
              if (e.type === "reasoning" || e.type === "content" || e.type === "tool_call_delta") generatedChars += e.text.length;
              yield e;
            }
            if (part.finish !== undefined) finish = part.finish;
            if (part.done) sawDone = true;
          }
        } catch (err) {
          if (cancelled()) {
            // the cancelled ending below
          } else if (controller.signal.reason instanceof IdleTimeout) {
            throw new RemoteModelError(this.options.endpoint, `the response stream sent nothing for ${Math.round(this.idleTimeoutMs / 1000)} s; gave up`);
          } else if (err instanceof RemoteModelError) {
            throw err; // the server said what went wrong: not a transport failure to retry
          } else {
            broken = new RemoteModelError(this.options.endpoint, `the response stream broke: ${describeFetchError(err)}`, undefined, { cause: err });
          }
        }
        if (cancelled()) {
          yield* this.ending(request, t0, firstAt, usage, generatedChars, "cancelled", translator);
          return;
        }
        if (broken === undefined && !sawDone && finish === undefined) {
          broken = new RemoteModelError(this.options.endpoint, "the response stream ended before the turn finished (no finish_reason, no [DONE]); the server may have crashed or dropped the connection");
        }
        if (broken === undefined) break;
        // Nothing reached the caller yet, so asking again cannot duplicate output.
        if (firstAt !== undefined || attempt >= this.retry.maxRetries) throw broken;
        if (!(await sleep(retryDelayMs(attempt, null, this.retry), controller.signal))) {
          yield* this.ending(request, t0, firstAt, usage, generatedChars, "cancelled", translator);
          return;
        }
        translator = new DeltaTranslator(firstToolIndex);
        usage = undefined;
        finish = undefined;
      }
      yield* translator.finish();
      yield* this.ending(request, t0, firstAt, usage, generatedChars, finish === "length" ? "length" : "stop", translator);
    } finally {
      clearTimeout(idle);
      signal?.removeEventListener("abort", onAbort);
      controller.abort();
    }
  }

  dispose(): void {}

  private *ending(
    request: ChatRequest,
    t0: number,
    firstAt: number | undefined,
    usage: Usage | undefined,
    generatedChars: number,
    reason: GenerationStats["finishReason"],
    translator: DeltaTranslator,
  ): Generator<ChatEvent> {
    const now = performance.now();
    const promptTokens = usage?.prompt_tokens ?? estimatePromptTokens(request.messages, request.tools);
    const reused = usage?.prompt_tokens_details?.cached_tokens ?? 0;
    const generated = usage?.completion_tokens ?? Math.ceil(generatedChars / 4);
    const ttft = (firstAt ?? now) - t0;
    const decodeMs = firstAt === undefined ? 0 : now - firstAt;
    const stats: GenerationStats = {
      promptTokens,
      reusedTokens: reused,
      prefilledTokens: Math.max(0, promptTokens - reused),
      generatedTokens: generated,
      prefillMs: ttft,
      decodeMs,
      timeToFirstTokenMs: ttft,
      prefillTokPerS: ttft > 0 ? ((promptTokens - reused) / ttft) * 1000 : 0,
      decodeTokPerS: decodeMs > 0 && generated > 1 ? ((generated - 1) / decodeMs) * 1000 : 0,
      finishReason: reason,
    };
    yield { type: "stats", stats };
    yield { type: "end", reason: reason === "stop" && translator.toolCallCount > 0 ? "tool_calls" : reason };
  }

  /** The response as deltas: SSE chunks, or (from a server that ignores `stream: true`) one
   *  chat.completion object whose message becomes a single delta. */
  private async *parts(res: Response, onBytes: () => void): AsyncGenerator<Part> {
    if (isJson(res)) {
      const body = this.parseChunk(await res.text());
      const choice = Array.isArray(body.choices) ? (body.choices[0] as Record<string, unknown> | undefined) : undefined;
      const message = choice?.message as Record<string, unknown> | undefined;
      if (message === undefined) throw new RemoteModelError(this.options.endpoint, "the server answered JSON without choices[0].message");
      const delta: Record<string, unknown> = { ...message };
      if (Array.isArray(message.tool_calls)) delta.tool_calls = message.tool_calls.map((c: unknown, index: number) => ({ ...(c as object), index }));
      const finish = typeof choice?.finish_reason === "string" ? choice.finish_reason : "stop";
      yield { delta, usage: body.usage as Usage | undefined, finish, done: true };
      return;
    }
    // Any bytes, keep-alive comments included, show the server is alive.
    async function* tapped(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
      for await (const chunk of body) {
        onBytes();
        yield chunk;
      }
    }
    for await (const sse of readSse(tapped(res.body!))) {
      if (sse.data === "[DONE]") {
        yield { delta: undefined, done: true };
        return;
      }
      const chunk = this.parseChunk(sse.data);
      const choice = Array.isArray(chunk.choices) ? (chunk.choices[0] as Record<string, unknown> | undefined) : undefined;
      // Moonshot puts usage on the last choice; OpenAI and vLLM on a final chunk without choices.
      const usage = (chunk.usage ?? choice?.usage ?? undefined) as Usage | undefined;
      const finish = typeof choice?.finish_reason === "string" ? choice.finish_reason : undefined;
      yield { delta: choice?.delta, usage: usage ?? undefined, finish, done: false };
    }
  }

  private parseChunk(data: string): Record<string, unknown> {
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      throw new RemoteModelError(this.options.endpoint, `the server sent a stream event that is not JSON: ${data.slice(0, 200)}`);
    }
    if (typeof chunk !== "object" || chunk === null) throw new RemoteModelError(this.options.endpoint, `unexpected stream event: ${data.slice(0, 200)}`);
    const c = chunk as Record<string, unknown>;
    if (c.error !== undefined) throw new RemoteModelError(this.options.endpoint, `the server reported an error mid-stream: ${errorText(c.error)}`);
    return c;
  }

  /** POSTs the request, retrying refused connections and 429/502/503/504; null if cancelled. */
  private async connect(request: ChatRequest, signal: AbortSignal): Promise<Response | null> {
    const url = `${this.options.endpoint}/chat/completions`;
    const body = JSON.stringify(openAIRequestBody(this.options.model, request));
    const headers: Record<string, string> = { "content-type": "application/json", accept: "text/event-stream" };
    if (this.options.apiKey !== undefined) headers.authorization = `Bearer ${this.options.apiKey}`;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.fetchFn(url, { method: "POST", headers, body, signal });
      } catch (err) {
        if (signal.aborted) return null;
        const code = connectErrorCode(err);
        if (code !== undefined && attempt < this.retry.maxRetries) {
          if (!(await sleep(retryDelayMs(attempt, null, this.retry), signal))) return null;
          continue;
        }
        const tries = attempt + 1;
        throw new RemoteModelError(this.options.endpoint, `cannot connect (${code ?? describeFetchError(err)})${tries > 1 ? ` after ${tries} attempts` : ""}; is the server running?`, undefined, { cause: err });
      }
      if (res.ok) {
        if (res.body === null) throw new RemoteModelError(this.options.endpoint, `HTTP ${res.status} with an empty body`, res.status);
        return res;
      }
      const text = await res.text().catch(() => "");
      if (RETRYABLE_STATUS.has(res.status) && attempt < this.retry.maxRetries) {
        if (!(await sleep(retryDelayMs(attempt, res.headers.get("retry-after"), this.retry), signal))) return null;
        continue;
      }
      throw new RemoteModelError(this.options.endpoint, httpFailure(res.status, res.statusText, text, attempt + 1), res.status);
    }
  }
}

function isJson(res: Response): boolean {
  return (res.headers.get("content-type") ?? "").includes("application/json");
}

function httpFailure(status: number, statusText: string, body: string, tries: number): string {
  let detail = body.trim().slice(0, 500);
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown; detail?: unknown };
    detail = errorText(parsed.error ?? parsed.message ?? parsed.detail ?? detail);
  } catch {
    // not JSON: keep the text
  }
  const hint = status === 401 || status === 403 ? " (check --api-key)" : status === 404 ? " (check --endpoint and --model)" : "";
  return `HTTP ${status}${statusText ? ` ${statusText}` : ""}${detail ? `: ${detail}` : ""}${hint}${tries > 1 ? ` after ${tries} attempts` : ""}`;
}

function errorText(e: unknown): string {
  if (typeof e === "string") return e;
  if (typeof e === "object" && e !== null && typeof (e as { message?: unknown }).message === "string") return (e as { message: string }).message;
  return JSON.stringify(e);
}

