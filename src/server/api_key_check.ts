// Bearer-token check for --api-key, compared in constant time so response timing does not leak
// how much of a guessed key was right.
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { HttpError } from "./http_error.js";

function digest(s: string): Buffer {
  return createHash("sha256").update(s, "utf8").digest();
}

export function checkApiKey(req: IncomingMessage, apiKey: string | undefined): void {
  if (apiKey === undefined) return;
  const header = req.headers.authorization ?? "";
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (m === null) {
    throw new HttpError(401, "missing API key: send `Authorization: Bearer <key>` (the server was started with --api-key)", "authentication_error", null, {
      "www-authenticate": "Bearer",
    });
  }
  if (!timingSafeEqual(digest(m[1]!), digest(apiKey))) {
    throw new HttpError(401, "invalid API key", "authentication_error", null, { "www-authenticate": "Bearer" });
  }
}
