// The OpenAI-compatible HTTP server over one ChatModel (agent-less): POST /v1/chat/completions
// (SSE or JSON), GET /v1/models, GET /health. node:http only. Requests generate one at a time in
// arrival order; a client that disconnects, queued or mid-generation, cancels its request.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ChatModel } from "../chat/chat_model.js";
import { checkApiKey } from "./api_key_check.js";
import { parseChatCompletionRequest } from "./chat_completion_request.js";
import { newCompletionHeader } from "./completion_ids.js";
import { runCompletion, type CompletionOutcome } from "./completion_run.js";
import { GenerationQueue } from "./generation_queue.js";
import { HttpError, sendHttpError } from "./http_error.js";
import { JsonCompletion } from "./json_completion.js";
import { readJsonBody } from "./request_body.js";
import { SseCompletion } from "./sse_completion.js";

export interface K2ServerOptions {
  model: ChatModel;
  host?: string; // default 127.0.0.1
  port?: number; // default 8080; 0 picks a free port
  apiKey?: string;
  maxBodyBytes?: number; // default 8 MiB
  maxQueue?: number; // requests waiting behind the running one; default 16
  heartbeatMs?: number; // SSE keep-alive comment interval; default 15 s
  /** One line per finished or failed request (defaults to nothing). */
  log?: (line: string) => void;
}

export interface K2Server {
  readonly url: string; // http://host:port
  readonly port: number;
  readonly queue: GenerationQueue;
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_QUEUE = 16;

export async function startK2Server(options: K2ServerOptions): Promise<K2Server> {
  const model = options.model;
  const queue = new GenerationQueue(options.maxQueue ?? DEFAULT_MAX_QUEUE);
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const log = options.log ?? (() => {});
  const live = new Set<AbortController>();
  const startedAt = Math.floor(Date.now() / 1000);

  async function chatCompletions(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // `close` before the response finished means the client went away: cancel, queued or running.
    const controller = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) controller.abort();
    });
    checkJsonContentType(req);
    const parsed = parseChatCompletionRequest(await readJsonBody(req, maxBody));
    const promptTokens = await model.countTokens(parsed.request.messages, parsed.request.tools);
    if (promptTokens >= model.contextWindow) {
      throw HttpError.badRequest("messages", `messages: the prompt is ${promptTokens} tokens; the model's context window is ${model.contextWindow} tokens`);
    }
    const room = model.contextWindow - promptTokens;
    if (parsed.request.sampling.maxTokens === undefined || parsed.request.sampling.maxTokens > room) parsed.request.sampling.maxTokens = room;

    const header = newCompletionHeader(parsed.model ?? model.name);
    let sse: SseCompletion | undefined;
    if (parsed.stream) {
      queue.checkCapacity();
      sse = new SseCompletion(res, header, heartbeatMs);
      sse.open();
    }
    const release = await queue.acquire(controller.signal);
    if (release === null) {
      sse?.abandon();
      return;
    }
    live.add(controller);
    const t0 = performance.now();
    const done = (o: CompletionOutcome): void =>
      log(
        `${header.id} ${parsed.stream ? "stream" : "json"} prompt=${o.usage.prompt_tokens} cached=${o.usage.prompt_tokens_details.cached_tokens} ` +
          `generated=${o.usage.completion_tokens} finish=${o.cancelled ? "cancelled" : o.finishReason} ${Math.round(performance.now() - t0)} ms`,
      );
    try {
      if (sse !== undefined) {
        sse.begin();
        try {
          const outcome = await runCompletion(model, parsed, controller.signal, sse);
          done(outcome);
          sse.finish(outcome, parsed.includeUsage);
        } catch (err) {
          log(`chat completion ${header.id} failed mid-stream: ${(err as Error).message}`);
          sse.fail(new HttpError(500, (err as Error).message, "server_error"));
        }
      } else {
        const json = new JsonCompletion(header);
        const outcome = await runCompletion(model, parsed, controller.signal, json);
        done(outcome);
        if (outcome.cancelled) return;
        sendJson(res, 200, json.body(outcome));
      }
    } finally {
      live.delete(controller);
      release();
    }
  }

  const modelCard = () => ({ id: model.name, object: "model", created: startedAt, owned_by: "k2", max_model_len: model.contextWindow });

  function models(res: ServerResponse): void {
    sendJson(res, 200, { object: "list", data: [modelCard()] });
  }

  function oneModel(res: ServerResponse, id: string): void {
    if (id !== model.name) throw new HttpError(404, `no model "${id}" here; this server has "${model.name}"`, "not_found_error", "model");
    sendJson(res, 200, modelCard());
  }

  function health(res: ServerResponse): void {
    sendJson(res, 200, { status: "ok", model: model.name, generating: queue.running, queued: queue.waiting });
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const method = req.method ?? "GET";
    // /health stays open without the key, as vLLM's does: load balancers probe it.
    if (path === "/health") return method === "GET" || method === "HEAD" ? health(res) : methodNotAllowed("GET");
    if (path.startsWith("/v1/")) checkApiKey(req, options.apiKey);
    if (path === "/v1/models") return method === "GET" ? models(res) : methodNotAllowed("GET");
    if (path.startsWith("/v1/models/")) return method === "GET" ? oneModel(res, decodeURIComponent(path.slice("/v1/models/".length))) : methodNotAllowed("GET");
    if (path === "/v1/chat/completions") return method === "POST" ? chatCompletions(req, res) : methodNotAllowed("POST");
    throw new HttpError(404, `no route ${method} ${path} (this server has POST /v1/chat/completions, GET /v1/models[/ID], GET /health)`, "not_found_error");
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      const httpErr = err instanceof HttpError ? err : new HttpError(500, (err as Error).message ?? String(err), "server_error");
      if (httpErr.status >= 500) log(`${req.method} ${req.url}: ${(err as Error).stack ?? httpErr.message}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendHttpError(res, httpErr);
      // A request whose body was left unread cannot keep its connection.
      if (!req.complete) req.resume();
    });
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8080, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    queue,
    // Resolves only when no generation is left running, so the caller may then dispose the engine.
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      queue.close();
      for (const c of live) c.abort();
      server.closeAllConnections();
      await queue.idle();
      await closed;
    },
  };
}

/** Browsers send text/plain, form and multipart bodies cross-origin without asking; requiring JSON
 *  makes a web page's request to this loopback server need a CORS preflight, which it never gets. */
function checkJsonContentType(req: IncomingMessage): void {
  const type = req.headers["content-type"];
  if (type === undefined) return;
  if (!/^application\/([\w.+-]*\+)?json\b/i.test(type.trim())) {
    throw new HttpError(415, `Content-Type must be application/json (got "${type}")`, "invalid_request_error", null);
  }
}

function methodNotAllowed(allow: string): never {
  throw new HttpError(405, `method not allowed; use ${allow}`, "invalid_request_error", null, { allow });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
