// An HTTP failure the server answers with an OpenAI-style error body: {"error": {message, type,
// param, code}}. `param` names the request field at fault so clients can show a precise message.
import type { ServerResponse } from "node:http";

export type HttpErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "not_found_error"
  | "rate_limit_error"
  | "server_error";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: HttpErrorType = "invalid_request_error",
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }

  static badRequest(param: string | null, message: string): HttpError {
    return new HttpError(400, message, "invalid_request_error", param);
  }
}

export function errorBody(status: number, message: string, type: HttpErrorType, param: string | null): string {
  return JSON.stringify({ error: { message, type, param, code: status } });
}

/** Writes `err` as a JSON error response (only valid before any header was sent). */
export function sendHttpError(res: ServerResponse, err: HttpError): void {
  const body = errorBody(err.status, err.message, err.type, err.param);
  res.writeHead(err.status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...err.headers,
  });
  res.end(body);
}
