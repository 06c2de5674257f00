// What the agent tells its front ends (TUI, one-shot printer, stream-json). The UI renders these
// and nothing else; it never calls the engine.
import type { ChatEvent } from "../chat/events.js";
import type { ChatMessage } from "../chat/messages.js";
import type { GenerationStats } from "../engine/types.js";

export type PermissionMode = "ask" | "auto-edit" | "yolo";

export type PermissionDecision = "once" | "session" | "project" | "deny";

export interface PermissionRequest {
  id: string;
  tool: string;
  /** One-line summary: the command, or the path being written. */
  summary: string;
  /** For edits: a unified diff of the change. */
  diff?: string;
  /** The rule "always" would save, e.g. "run_shell(npm test:*)". */
  suggestedRule: string;
}

export interface TodoItem {
  content: string;
  status: "pending" | "in_progress" | "completed";
}

export type AgentEvent =
  | { type: "turn_start"; turn: number }
  /** A model event of the current step, passed through as it streams. */
  | { type: "model"; step: number; event: ChatEvent }
  | { type: "tool_start"; callId: string; name: string; args: Record<string, unknown>; summary: string }
  | { type: "tool_output"; callId: string; chunk: string }
  | { type: "tool_end"; callId: string; name: string; ok: boolean; result: string; diff?: string; durationMs: number }
  | { type: "permission_request"; request: PermissionRequest }
  | { type: "todos"; items: TodoItem[] }
  | { type: "step_stats"; step: number; stats: GenerationStats; contextTokens: number; contextWindow: number }
  | { type: "compaction"; beforeTokens: number; afterTokens: number; durationMs: number; summary: string }
  | { type: "message"; message: ChatMessage } // a message appended to the transcript
  | { type: "error"; message: string; recoverable: boolean }
  | { type: "turn_end"; reason: "done" | "cancelled" | "error" | "max_steps" };
