// The factory the app calls for `--endpoint URL [--api-key K] [--model NAME]`. It asks the server's
// GET /models once: for the model id when none was given, and for the context window (vLLM's
// `max_model_len`, others' `context_length`/`context_window`) so compaction and the status line
// use the server's real limit. A server that is down or rejects the key fails here, with one clear
// message, before the UI starts.
import { UsageError } from "../errors.js";
import { normalizeEndpoint } from "./endpoint_url.js";
import { OpenAIChatModel } from "./openai_chat_model.js";
import { RemoteModelError, describeFetchError } from "./remote_error.js";
import { connectErrorCode, type RetryOptions } from "./retry_policy.js";

/** Kimi K2 Thinking's window, used when the server does not say. */
export const DEFAULT_REMOTE_CONTEXT_WINDOW = 262_144;

export interface RemoteModelOptions {
  endpoint: string;
  apiKey?: string;
  model?: string;
  /** Overrides what the server reports. */
  contextWindow?: number;
  retry?: Partial<RetryOptions>;
  idleTimeoutMs?: number;
  fetch?: typeof fetch;
}

interface ModelEntry {
  id?: unknown;
  max_model_len?: unknown;
  context_length?: unknown;
  context_window?: unknown;
}

export async function createRemoteChatModel(options: RemoteModelOptions): Promise<OpenAIChatModel> {
  const endpoint = normalizeEndpoint(options.endpoint);
  const apiKey = options.apiKey !== undefined && options.apiKey !== "" ? options.apiKey : undefined;
  if (options.model !== undefined && options.model.trim() === "") throw new UsageError("--model: expected a model id for the remote server");
  if (options.contextWindow !== undefined && (!Number.isInteger(options.contextWindow) || options.contextWindow < 1)) {
    throw new UsageError(`--context: expected a positive whole number of tokens, got ${options.contextWindow}`);
  }
  const fetchFn = options.fetch ?? fetch;
  let model = options.model;
  let contextWindow = options.contextWindow;
  if (model === undefined || contextWindow === undefined) {
    const entries = await listModels(endpoint, apiKey, fetchFn, model !== undefined);
    if (model === undefined) {
      const first = entries?.find((e) => typeof e.id === "string");
      if (first === undefined) throw new RemoteModelError(endpoint, "the server lists no models at GET /models; pass --model NAME");
      model = first.id as string;
    }
    const entry = entries?.find((e) => e.id === model);
    contextWindow ??= windowOf(entry) ?? DEFAULT_REMOTE_CONTEXT_WINDOW;
  }
  return new OpenAIChatModel({ endpoint, model, apiKey, contextWindow, retry: options.retry, idleTimeoutMs: options.idleTimeoutMs, fetch: fetchFn });
}

function windowOf(entry: ModelEntry | undefined): number | undefined {
  for (const v of [entry?.max_model_len, entry?.context_length, entry?.context_window]) {
    if (typeof v === "number" && Number.isInteger(v) && v > 0) return v;
  }
  return undefined;
}

/** GET /models. With `optional`, a server without the route (404/405) yields undefined. */
async function listModels(endpoint: string, apiKey: string | undefined, fetchFn: typeof fetch, optional: boolean): Promise<ModelEntry[] | undefined> {
  let res: Response;
  try {
    res = await fetchFn(`${endpoint}/models`, { headers: apiKey !== undefined ? { authorization: `Bearer ${apiKey}` } : {}, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new RemoteModelError(endpoint, `cannot connect (${connectErrorCode(err) ?? describeFetchError(err)}); is the server running?`, undefined, { cause: err });
  }
  if (res.status === 401 || res.status === 403) {
    throw new RemoteModelError(endpoint, `HTTP ${res.status}: the server rejected the API key (check --api-key)`, res.status);
  }
  if (!res.ok) {
    await res.body?.cancel();
    if (optional && (res.status === 404 || res.status === 405)) return undefined;
    throw new RemoteModelError(endpoint, `GET /models answered HTTP ${res.status}${optional ? "" : "; pass --model NAME"}`, res.status);
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    if (optional) return undefined;
    throw new RemoteModelError(endpoint, "GET /models did not answer JSON; pass --model NAME");
  }
  const data = (body as { data?: unknown }).data;
  return Array.isArray(data) ? (data.filter((d) => typeof d === "object" && d !== null) as ModelEntry[]) : [];
}
