// What the TUI drives: the agent's public surface, as an interface so component tests can pass
// scripted fakes. `Agent` (src/agent/agent.ts) satisfies it structurally.
import type { AgentEvent, PermissionDecision, PermissionMode, TodoItem } from "../agent/events.js";
import type { ChatMessage } from "../chat/messages.js";
import type { LoadProgress } from "../engine/types.js";

export interface SessionDriver {
  readonly model: { readonly name: string; readonly contextWindow: number };
  readonly messages: readonly ChatMessage[];
  readonly todos: readonly TodoItem[];
  readonly contextTokens: number;
  readonly sessionId: string | null;
  mode: PermissionMode;
  cycleMode(): PermissionMode;
  run(userText: string, signal?: AbortSignal): AsyncIterable<AgentEvent>;
  compact(focus?: string, signal?: AbortSignal): AsyncIterable<AgentEvent>;
  respondToPermission(id: string, decision: PermissionDecision): void;
}

/** Session-level services the app offers around the driver (slash commands use them). */
export interface AppServices {
  /** Sessions to offer in /resume, newest first. */
  listSessions(): { id: string; title: string; updatedAt: Date; messageCount: number }[];
  /** Replaces the driver with one continuing session `id`; returns its messages for display. */
  resumeSession(id: string): SessionDriver;
  /** Starts a fresh conversation (for /clear). */
  newSession(): SessionDriver;
  /** Writes the transcript as Markdown to `file` (default: a name in cwd); returns the path. */
  saveTranscript(driver: SessionDriver, file?: string): string;
  /** `key value` lines of the effective settings, with their sources. */
  describeSettings(): string[];
  /** Sets a setting in the config file (validated); returns a one-line confirmation. */
  setSetting(key: string, value: string): string;
  /** Engine telemetry lines for /stats (model shape, memory, KV cache, expert cache). */
  engineStats(): string[];
  /** One-line description of the loaded model for /model. */
  describeModel(): string[];
  /**
   * Loads another checkpoint (a folder path or a Hugging Face cache name) in place of the current
   * one and starts a new conversation on it; the previous model stays loaded if this fails.
   * Absent when the app cannot switch (e.g. connected to an endpoint).
   */
  switchModel?(target: string, onProgress: (p: LoadProgress) => void): Promise<SessionDriver>;
  /** The /init prompt, when the agent offers one. */
  initPrompt?: string;
}
