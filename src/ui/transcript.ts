// The TUI's model of the conversation: AgentEvents folded into display items. Items that can no
// longer change move to `done` (rendered once by <Static>, so scrollback stays intact and never
// flickers); only `live` items repaint.
import type { AgentEvent, PermissionRequest, TodoItem } from "../agent/events.js";
import type { GenerationStats } from "../engine/types.js";
import { sanitizeTerminalText } from "./ansi_style.js";

export interface UserItem {
  kind: "user";
  id: string;
  text: string;
}

export interface AssistantItem {
  kind: "assistant";
  id: string;
  step: number;
  reasoning: string;
  /** Reasoning events received; the parser emits about one per token. */
  reasoningTokens: number;
  reasoningStartedAt?: number;
  reasoningMs: number;
  content: string;
  /** Name of a tool call the model is writing right now. */
  writingTool?: string;
  finished: boolean;
}

export interface ToolItem {
  kind: "tool";
  id: string;
  callId: string;
  name: string;
  summary: string;
  args: Record<string, unknown>;
  status: "running" | "ok" | "error";
  output: string;
  result?: string;
  diff?: string;
  durationMs?: number;
}

export interface NoticeItem {
  kind: "notice";
  id: string;
  tone: "info" | "warn" | "error";
  text: string;
}

/** A reasoning block re-shown in full (Ctrl+O on an already-printed turn). */
export interface ReasoningItem {
  kind: "reasoning";
  id: string;
  text: string;
}

export type TranscriptItem = UserItem | AssistantItem | ToolItem | NoticeItem | ReasoningItem;

export interface StepTelemetry {
  stats: GenerationStats;
  contextTokens: number;
  contextWindow: number;
}

export interface TranscriptState {
  done: TranscriptItem[];
  live: TranscriptItem[];
  running: boolean;
  permission?: PermissionRequest;
  todos: TodoItem[];
  telemetry?: StepTelemetry;
  nextId: number;
}

export const TOOL_OUTPUT_KEEP = 4096;

export function emptyTranscript(): TranscriptState {
  return { done: [], live: [], running: false, todos: [], nextId: 0 };
}

function newId(state: TranscriptState, prefix: string): string {
  state.nextId += 1;
  return `${prefix}${state.nextId}`;
}

function isFinished(item: TranscriptItem): boolean {
  if (item.kind === "assistant") return item.finished;
  if (item.kind === "tool") return item.status !== "running";
  return true;
}

/** Moves finished items from the front of `live` to `done`, keeping order. */
function flush(state: TranscriptState): void {
  while (state.live.length > 0 && isFinished(state.live[0]!)) {
    const item = state.live.shift()!;
    if (item.kind === "assistant" && item.reasoning === "" && item.content.trim() === "") continue;
    state.done.push(item);
  }
}

function currentAssistant(state: TranscriptState, step: number): AssistantItem {
  const last = state.live[state.live.length - 1];
  if (last !== undefined && last.kind === "assistant" && last.step === step && !last.finished) return last;
  const item: AssistantItem = { kind: "assistant", id: newId(state, "a"), step, reasoning: "", reasoningTokens: 0, reasoningMs: 0, content: "", finished: false };
  state.live.push(item);
  return item;
}

function finishAssistant(item: AssistantItem, now: number): void {
  if (item.reasoningStartedAt !== undefined && item.content === "" && !item.finished) item.reasoningMs = now - item.reasoningStartedAt;
  item.finished = true;
  item.writingTool = undefined;
}

export function addUserMessage(state: TranscriptState, text: string): TranscriptState {
  const next = clone(state);
  next.done.push({ kind: "user", id: newId(next, "u"), text });
  return next;
}

export function addNotice(state: TranscriptState, tone: NoticeItem["tone"], text: string): TranscriptState {
  const next = clone(state);
  const item: NoticeItem = { kind: "notice", id: newId(next, "n"), tone, text };
  // A notice during a turn goes after the live items, so it must wait for them.
  if (next.live.length > 0) next.live.push(item);
  else next.done.push(item);
  flush(next);
  return next;
}

export function addReasoningReplay(state: TranscriptState, text: string): TranscriptState {
  const next = clone(state);
  next.done.push({ kind: "reasoning", id: newId(next, "r"), text });
  return next;
}

/** The newest reasoning text in the transcript, live or printed. */
export function lastReasoning(state: TranscriptState): string | undefined {
  for (const list of [state.live, state.done]) {
    for (let i = list.length - 1; i >= 0; i--) {
      const item = list[i]!;
      if (item.kind === "assistant" && item.reasoning !== "") return item.reasoning;
    }
  }
  return undefined;
}

function clone(state: TranscriptState): TranscriptState {
  return { ...state, done: [...state.done], live: state.live.map((i) => ({ ...i })), todos: state.todos };
}

/** Folds a batch of events (the UI applies them at most ~20 times a second); `now` is one time or each event's arrival time. */
export function applyAgentEvents(state: TranscriptState, events: readonly AgentEvent[], now: number | readonly number[]): TranscriptState {
  const next = clone(state);
  events.forEach((ev, i) => applyOne(next, ev, typeof now === "number" ? now : (now[i] ?? Date.now())));
  flush(next);
  return next;
}

function applyOne(state: TranscriptState, ev: AgentEvent, now: number): void {
  switch (ev.type) {
    case "turn_start":
      state.running = true;
      return;
    case "model": {
      const e = ev.event;
      if (e.type === "reasoning") {
        const item = currentAssistant(state, ev.step);
        item.reasoningStartedAt ??= now;
        item.reasoning += sanitizeTerminalText(e.text);
        item.reasoningTokens += 1;
        if (item.content === "") item.reasoningMs = now - item.reasoningStartedAt;
      } else if (e.type === "content") {
        const item = currentAssistant(state, ev.step);
        item.content += sanitizeTerminalText(e.text);
      } else if (e.type === "tool_call_start") {
        currentAssistant(state, ev.step).writingTool = e.name;
      } else if (e.type === "tool_call_end" || e.type === "tool_call_error") {
        const item = currentAssistant(state, ev.step);
        item.writingTool = undefined;
      } else if (e.type === "end") {
        const last = state.live[state.live.length - 1];
        if (last !== undefined && last.kind === "assistant" && last.step === ev.step) finishAssistant(last, now);
      }
      return;
    }
    case "tool_start": {
      for (const item of state.live) if (item.kind === "assistant") finishAssistant(item, now);
      state.live.push({ kind: "tool", id: newId(state, "t"), callId: ev.callId, name: ev.name, summary: ev.summary, args: ev.args, status: "running", output: "" });
      return;
    }
    case "tool_output": {
      const item = state.live.find((i): i is ToolItem => i.kind === "tool" && i.callId === ev.callId);
      if (item !== undefined) item.output = (item.output + sanitizeTerminalText(ev.chunk)).slice(-TOOL_OUTPUT_KEEP);
      return;
    }
    case "tool_end": {
      const item = state.live.find((i): i is ToolItem => i.kind === "tool" && i.callId === ev.callId);
      if (item !== undefined) {
        item.status = ev.ok ? "ok" : "error";
        item.result = sanitizeTerminalText(ev.result);
        item.diff = ev.diff !== undefined ? sanitizeTerminalText(ev.diff) : undefined;
        item.durationMs = ev.durationMs;
      }
      return;
    }
    case "permission_request":
      state.permission = ev.request;
      return;
    case "todos":
      state.todos = ev.items;
      return;
    case "step_stats":
      state.telemetry = { stats: ev.stats, contextTokens: ev.contextTokens, contextWindow: ev.contextWindow };
      return;
    case "compaction":
      state.live.push({
        kind: "notice",
        id: newId(state, "n"),
        tone: "info",
        text: `compacted the conversation: ${ev.beforeTokens} → ${ev.afterTokens} tokens in ${(ev.durationMs / 1000).toFixed(1)} s`,
      });
      return;
    case "message":
      return; // the transcript is built from the streamed events; messages are the agent's record
    case "error":
      state.live.push({ kind: "notice", id: newId(state, "n"), tone: ev.recoverable ? "warn" : "error", text: ev.message });
      return;
    case "turn_end":
      for (const item of state.live) {
        if (item.kind === "assistant") finishAssistant(item, now);
        if (item.kind === "tool" && item.status === "running") item.status = "error";
      }
      state.running = false;
      state.permission = undefined;
      if (ev.reason === "cancelled") state.live.push({ kind: "notice", id: newId(state, "n"), tone: "warn", text: "cancelled" });
      if (ev.reason === "max_steps") state.live.push({ kind: "notice", id: newId(state, "n"), tone: "warn", text: "stopped: too many tool steps in one turn" });
      return;
  }
}

/** Clears the permission prompt once it has been answered. */
export function clearPermission(state: TranscriptState): TranscriptState {
  return { ...state, permission: undefined };
}
