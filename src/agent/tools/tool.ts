// The contract every agent tool implements. A tool validates its own arguments against its JSON
// schema (the agent does that before calling `run`), describes what it is about to do for the
// permission prompt (`preview`), and returns text the model reads. Failures the model can fix
// (bad path, no match, timeout) are returned as `ok: false` results, not thrown: the model sees
// the message and tries again.
import type { TodoItem } from "../events.js";

/** How a tool's effect is gated: reads run freely, edits and shell commands go through permissions. */
export type ToolKind = "read" | "edit" | "shell" | "meta";

export interface ToolContext {
  /** Absolute, symlink-resolved repository root; tools confine reads to it. */
  readonly root: string;
  /** Where relative paths resolve and shell commands start (the root or a folder inside it). */
  readonly cwd: string;
  readonly signal: AbortSignal;
  /** Streams partial output (shell stdout/stderr) to the UI as `tool_output` events. */
  emitOutput(chunk: string): void;
  /** The model's plan list; `todo` replaces it and the UI shows it. */
  setTodos(items: TodoItem[]): void;
  readonly limits: ToolLimits;
}

export interface ToolLimits {
  /** Characters of tool output handed back to the model before truncation. */
  outputChars: number;
  /** Default and maximum run_shell timeouts. */
  shellTimeoutMs: number;
  shellMaxTimeoutMs: number;
}

export const DEFAULT_TOOL_LIMITS: ToolLimits = {
  outputChars: 30_000,
  shellTimeoutMs: 120_000,
  shellMaxTimeoutMs: 600_000,
};

/** What the permission layer and UI see before a tool runs. */
export interface ToolPreview {
  /** One line: the command, or the path being written. */
  summary: string;
  /** Unified diff of a file change (edits only). */
  diff?: string;
  /** Absolute paths the call writes (edits only); writes outside the root always ask. */
  writesPaths?: string[];
  /** Absolute path a read-only call looks at, so path-specific deny rules can refuse it. */
  readsPath?: string;
  /** The shell command (run_shell only); permission rules match its parsed prefix. */
  command?: string;
}

export interface ToolResult {
  ok: boolean;
  /** What the model reads as the tool message content. */
  content: string;
  diff?: string;
}

export interface Tool<A = Record<string, unknown>> {
  readonly name: string;
  readonly description: string;
  /** JSON schema of the arguments (type "object"). */
  readonly parameters: Record<string, unknown>;
  readonly kind: ToolKind;
  preview(args: A, ctx: ToolContext): Promise<ToolPreview>;
  run(args: A, ctx: ToolContext): Promise<ToolResult>;
}

/** A problem with the call the model made; its message is returned to the model verbatim. */
export class ToolInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ToolInputError";
  }
}

export function failure(message: string): ToolResult {
  return { ok: false, content: `Error: ${message}` };
}
