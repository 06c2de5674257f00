// Writes to stdout respecting back-pressure, so multi-megabyte JSON reaches a slow pipe intact, and
// turns a reader that goes away (`k2 logits ... | head`) into one clear error instead of an
// unhandled 'error' event.
import { K2Error } from "../../errors.js";

let closed: NodeJS.ErrnoException | null = null;
let listening = false;

function closedError(err: NodeJS.ErrnoException): K2Error {
  return new K2Error(`stdout closed before the output was complete (${err.code ?? err.message})`, { cause: err });
}

export function writeStdout(text: string): Promise<void> {
  if (!listening) {
    listening = true;
    process.stdout.on("error", (err: NodeJS.ErrnoException) => {
      closed = err;
    });
  }
  if (closed) return Promise.reject(closedError(closed));
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (err) => (err ? reject(closedError(err as NodeJS.ErrnoException)) : resolve()));
  });
}
