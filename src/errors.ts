// Typed errors. Every error a user can cause names the file, field or argument at fault; the CLI
// prints `k2: <message>` and exits with `exitCode` (1 runtime, 2 usage, 130 interrupted).

export class K2Error extends Error {
  readonly exitCode: number;
  constructor(message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = new.target.name;
    this.exitCode = options?.exitCode ?? 1;
  }
}

/** Bad command-line arguments or flag values. */
export class UsageError extends K2Error {
  constructor(message: string) {
    super(message, { exitCode: 2 });
  }
}

/** A checkpoint directory that is missing, malformed, or not a K2/DeepSeek-V3 model. */
export class CheckpointError extends K2Error {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(`${path}: ${message}`, options);
    this.path = path;
  }
}

/** A failure inside the native engine (load, forward pass, I/O). */
export class EngineError extends K2Error {}

/** A configuration file or value that does not validate. */
export class ConfigError extends K2Error {
  constructor(message: string) {
    super(message, { exitCode: 2 });
  }
}

/** The user interrupted (Ctrl+C, Esc, SIGINT). */
export class InterruptedError extends K2Error {
  constructor(message = "interrupted") {
    super(message, { exitCode: 130 });
  }
}
