// Reads a JSON request body under a size cap. An oversized body is drained (up to a hard bound)
// rather than cut off mid-upload, so the client reliably receives the 413 instead of a reset socket.
import type { IncomingMessage } from "node:http";
import { HttpError } from "./http_error.js";

/** Past this many bytes beyond the cap the connection is dropped instead of drained. */
const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  let oversized = false;
  await new Promise<void>((resolve, reject) => {
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        oversized = true;
        chunks.length = 0;
        if (size > maxBytes + DRAIN_LIMIT_BYTES) {
          req.destroy();
          reject(new HttpError(413, `request body exceeds ${maxBytes} bytes`, "invalid_request_error", null, { connection: "close" }));
        }
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve());
    req.on("error", (err) => reject(err));
    // A client that goes away mid-upload: nothing to answer, but the handler must not hang.
    req.on("close", () => {
      if (!req.complete) reject(new HttpError(400, "the client closed the connection before sending the whole body"));
    });
  });
  if (oversized) {
    throw new HttpError(413, `request body is ${size} bytes; the limit is ${maxBytes} bytes`, "invalid_request_error", null, { connection: "close" });
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") throw HttpError.badRequest(null, "request body is empty; expected a JSON object");
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw HttpError.badRequest(null, `request body is not valid JSON: ${(err as Error).message}`);
  }
}
