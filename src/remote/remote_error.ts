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
