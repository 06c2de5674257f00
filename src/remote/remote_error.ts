// A failure talking to a remote OpenAI-compatible server. The message names the endpoint and, when
// there was one, the HTTP status and the server's own error text.
import { K2Error } from "../errors.js";

export class RemoteModelError extends K2Error {
  constructor(
    readonly endpoint: string,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(`${endpoint}: ${message}`, options);
  }
}

/** A failed fetch's message with its cause ("fetch failed: connect ECONNREFUSED …", "fetch failed: bad port"). */
export function describeFetchError(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const cause = (err as { cause?: { message?: unknown } } | null)?.cause?.message;
  return typeof cause === "string" && cause !== "" ? `${msg}: ${cause}` : msg;
}
