// A local stand-in for a remote OpenAI-compatible server (vLLM, SGLang, …) that replays recorded
// SSE response bodies. Each POST /v1/chat/completions takes the next scripted reply: a stream
// (sent in small byte pieces so parsers meet events, lines and UTF-8 characters split across
// reads), an HTTP error, or a stream cut off mid-way. Records every request's headers and body.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export type ReplayReply =
  | { kind: "stream"; body: string; pieceBytes?: number; pieceDelayMs?: number; cutAfterBytes?: number; keepAlives?: { count: number; everyMs: number } }
  | { kind: "status"; status: number; body: string; headers?: Record<string, string> }
  /** Open the stream, then send nothing (for idle-timeout tests). */
  | { kind: "silent" };

export interface RecordedRequest {
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface SseReplayServer {
  url: string; // http://127.0.0.1:PORT
  requests: RecordedRequest[];
  /** Requests that received a streamed reply whose connection the client closed early. */
  clientClosed: number;
  close(): Promise<void>;
}

export async function startSseReplayServer(replies: ReplayReply[], models: Record<string, unknown>[] = []): Promise<SseReplayServer> {
  const queue = [...replies];
  const state: SseReplayServer = { url: "", requests: [], clientClosed: 0, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "GET" && req.url === "/v1/models") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ object: "list", data: models }));
        return;
      }
      if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
        return;
      }
      state.requests.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown> });
      const reply = queue.shift();
      if (reply === undefined) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "replay server: no reply scripted" } }));
        return;
      }
      if (reply.kind === "status") {
        res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
        res.end(reply.body);
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      res.flushHeaders();
      if (reply.kind === "silent") return;
      void sendPieces(res, reply).catch(() => {});
    });
  });

  async function sendPieces(res: import("node:http").ServerResponse, reply: Extract<ReplayReply, { kind: "stream" }>): Promise<void> {
    const bytes = Buffer.from(reply.body, "utf8");
    const limit = reply.cutAfterBytes ?? bytes.length;
    const step = reply.pieceBytes ?? 7;
    let closed = false;
    res.on("close", () => {
      if (!res.writableFinished) {
        closed = true;
        state.clientClosed++;
      }
    });
    for (let k = 0; k < (reply.keepAlives?.count ?? 0) && !closed; k++) {
      res.write(": keep-alive\n\n");
      await new Promise((r) => setTimeout(r, reply.keepAlives!.everyMs));
    }
    for (let i = 0; i < limit && !closed; i += step) {
      res.write(bytes.subarray(i, Math.min(i + step, limit)));
      await new Promise((r) => (reply.pieceDelayMs ? setTimeout(r, reply.pieceDelayMs) : setImmediate(r)));
    }
    if (closed) return;
    if (reply.cutAfterBytes !== undefined) res.socket?.destroy();
    else res.end();
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return state;
}

/** Loads a recorded stream from test/remote/fixtures. */
export async function recordedStream(name: string): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  return readFile(new URL(`../remote/fixtures/${name}`, import.meta.url), "utf8");
}
