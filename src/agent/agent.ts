// The coding agent: drives a ChatModel through tool-calling steps until the model answers
// without tool calls, and reports everything as AgentEvents. No UI code here.
//
// API (for the TUI, the one-shot printer and tests)
//
//   const agent = new Agent({
//     model,                         // ChatModel (LocalChatModel or the remote client)
//     cwd,                           // the repository root is found from it (git), or pass `root`
//     permissions: { mode: "ask" },  // or a PermissionPolicy; `{ interactive: false, allowTools }` for -p
//     session: SessionWriter.create(sessionsDir, sessionHeader(...)),   // optional; JSONL, fsync'd
//     sampling: { temperature: 1, seed: 7 },
//   });
//   for await (const ev of agent.run(userText, abortSignal)) render(ev);
//
//   - Permission prompts: on { type: "permission_request", request } call
//     `agent.respondToPermission(request.id, "once" | "session" | "project" | "deny")` (the
//     stream pauses until you do), or pass `askPermission: async (request, signal) => decision`.
//   - Shift+Tab: `agent.cycleMode()` → next of ask → auto-edit → yolo; `agent.mode` to show it.
//   - `/compact [focus]`: `for await (const ev of agent.compact(focus, signal)) …`.
//   - `/init`: `agent.run(INIT_PROMPT, signal)` (exported from ./init_prompt.js).
//   - Resume (`--continue`, `--resume ID`, `/resume`): `const s = findSession(dir, id)` or
//     `latestSession(dir, cwd)` (session/session_store.ts), then
//     `new Agent({ ...options, ...resumeOptions(s) })` — history, todos and the same file.
//   - `agent.messages` (transcript without the system prompt), `agent.todos`,
//     `agent.contextTokens` (latest exact count), `agent.model.contextWindow`.
//   One run at a time: a second `run`/`compact` while one is active throws.
//   Cancelling: abort the signal; the current generation and any running shell command (its
//   whole process tree) stop, unfinished tool calls get "cancelled" results, and the turn ends
//   with { type: "turn_end", reason: "cancelled" }.
import type { ChatModel } from "../chat/chat_model.js";
import type { ChatMessage, ToolCall } from "../chat/messages.js";
import type { GenerationStats, SamplingOptions } from "../engine/types.js";
import { realpathSync } from "node:fs";
import { K2Error } from "../errors.js";
import type { AgentEvent, PermissionDecision, PermissionMode, PermissionRequest, TodoItem } from "./events.js";
import { EventChannel } from "./event_channel.js";
import { PermissionPolicy, type PermissionPolicyOptions } from "./permissions/permission_policy.js";
import { ToolRegistry } from "./tools/tool_registry.js";
import { DEFAULT_TOOL_LIMITS, type ToolLimits } from "./tools/tool.js";
import { ToolExecution, type PendingToolCall } from "./tool_execution.js";
import { buildSystemPrompt } from "./context/system_prompt.js";
import { compactMessages, DEFAULT_COMPACT_THRESHOLD } from "./context/compaction.js";
import { findRepoRootSync } from "./context/repo_root.js";
import { SessionWriter, type LoadedSession } from "./session/session_store.js";

export interface AgentOptions {
  model: ChatModel;
  cwd: string;
  /** Repository root; default: `git rev-parse --show-toplevel` from cwd, else cwd. */
  root?: string;
  permissions?: PermissionPolicy | Omit<PermissionPolicyOptions, "root">;
  /** Where messages are persisted as they happen; none = not persisted. */
  session?: SessionWriter | null;
  sampling?: SamplingOptions;
  /** Default: built from the repository on the first run (cwd, OS, date, git, tree, AGENTS.md). */
  systemPrompt?: string;
  /** Messages of a resumed session. */
  history?: ChatMessage[];
  todos?: TodoItem[];
  tools?: ToolRegistry;
  /** Model steps per user turn before the turn is stopped. */
  maxSteps?: number;
  /** Fraction of the context window at which older turns are compacted (default 0.85). */
  compactThreshold?: number;
  toolLimits?: Partial<ToolLimits>;
  /** Answers permission prompts; without it, answer with `respondToPermission`. */
  askPermission?: (request: PermissionRequest, signal: AbortSignal) => Promise<PermissionDecision>;
}

/** Options that continue a stored session in the same file. */
export function resumeOptions(loaded: LoadedSession): Pick<AgentOptions, "history" | "todos" | "session"> {
  return { history: loaded.messages, todos: loaded.todos, session: SessionWriter.open(loaded.file, loaded.header.id) };
}

export class Agent {
  readonly model: ChatModel;
  readonly root: string;
  readonly cwd: string;
  readonly permissions: PermissionPolicy;
  readonly sampling: SamplingOptions;
  private readonly session: SessionWriter | null;
  private readonly tools: ToolRegistry;
  private readonly limits: ToolLimits;
  private readonly maxSteps: number;
  private readonly compactThreshold: number;
  private readonly askPermissionOption: AgentOptions["askPermission"];
  private systemPrompt: string | undefined;
  private systemMessage: ChatMessage | undefined;
  private transcript: ChatMessage[];
  private todoItems: TodoItem[];
  private running = false;
  private turnCount = 0;
  private lastContextTokens = 0;
  /** A resumed transcript has never been counted: count it exactly before the first step. */
  private countUnknown: boolean;
  private readonly pendingPermissions = new Map<string, (d: PermissionDecision) => void>();

  constructor(options: AgentOptions) {
    this.model = options.model;
    this.cwd = realpathSync(options.cwd);
    this.root = options.root !== undefined ? realpathSync(options.root) : findRepoRootSync(this.cwd);
    this.permissions = options.permissions instanceof PermissionPolicy ? options.permissions : new PermissionPolicy({ root: this.root, ...(options.permissions ?? {}) });
    this.sampling = options.sampling ?? {};
    this.session = options.session ?? null;
    this.tools = options.tools ?? new ToolRegistry();
    this.limits = { ...DEFAULT_TOOL_LIMITS, ...(options.toolLimits ?? {}) };
    this.maxSteps = options.maxSteps ?? 1000;
    this.compactThreshold = options.compactThreshold ?? DEFAULT_COMPACT_THRESHOLD;
    this.askPermissionOption = options.askPermission;
    this.systemPrompt = options.systemPrompt;
    this.transcript = [...(options.history ?? [])];
    this.todoItems = [...(options.todos ?? [])];
    this.countUnknown = this.transcript.length > 0;
  }

  get messages(): readonly ChatMessage[] {
    return this.transcript;
  }
  get todos(): readonly TodoItem[] {
    return this.todoItems;
  }
  get mode(): PermissionMode {
    return this.permissions.mode;
  }
  set mode(mode: PermissionMode) {
    this.permissions.mode = mode;
  }
  /** Tokens in the window after the latest step (0 before the first). */
  get contextTokens(): number {
    return this.lastContextTokens;
  }
  get sessionId(): string | null {
    return this.session?.id ?? null;
  }

  cycleMode(): PermissionMode {
    return this.permissions.cycleMode();
  }

  respondToPermission(id: string, decision: PermissionDecision): void {
    const resolve = this.pendingPermissions.get(id);
    if (!resolve) throw new K2Error(`no pending permission request "${id}"`);
    this.pendingPermissions.delete(id);
    resolve(decision);
  }

  /** The system prompt the model sees (built on first use). */
  async getSystemPrompt(): Promise<string> {
    this.systemPrompt ??= await buildSystemPrompt({ root: this.root, cwd: this.cwd });
    return this.systemPrompt;
  }

  run(userText: string, signal?: AbortSignal): AsyncGenerator<AgentEvent> {
    return this.exclusive(signal, async (emit, sig) => {
      try {
        await this.drive(userText, emit, sig);
      } catch (err) {
        // A failure outside the model and the tools (session file I/O, building the system
        // prompt) still ends the turn the way front ends expect: an error event, then turn_end.
        emit({ type: "error", message: err instanceof Error ? err.message : String(err), recoverable: false });
        emit({ type: "turn_end", reason: "error" });
      }
    });
  }

  compact(focus?: string, signal?: AbortSignal): AsyncGenerator<AgentEvent> {
    return this.exclusive(signal, async (emit, sig) => {
      await this.compactNow(emit, sig, focus);
    });
  }

  private async *exclusive(signal: AbortSignal | undefined, body: (emit: (e: AgentEvent) => void, signal: AbortSignal) => Promise<void>): AsyncGenerator<AgentEvent> {
    if (this.running) throw new K2Error("the agent is already running a turn");
    this.running = true;
    const channel = new EventChannel<AgentEvent>();
    // Linked to the caller's signal, and also aborted if the caller stops iterating early, so no
    // tool or generation keeps running unobserved.
    const controller = new AbortController();
    const forward = () => controller.abort(signal?.reason);
    if (signal?.aborted) forward();
    else signal?.addEventListener("abort", forward, { once: true });
    const done = body((e) => channel.push(e), controller.signal).then(
      () => channel.close(),
      (err) => channel.fail(err),
    );
    let finished = false;
    try {
      yield* channel;
      finished = true;
    } finally {
      if (!finished) controller.abort();
      await done;
      signal?.removeEventListener("abort", forward);
      this.running = false;
    }
  }

  /**
   * System prompt + transcript as sent to the model. The system message stays the same object
   * across steps so the model's prompt encoder recognises it and re-encodes only new messages.
   */
  private conversation(systemPrompt: string): ChatMessage[] {
    if (this.systemMessage?.content !== systemPrompt) this.systemMessage = { role: "system", content: systemPrompt };
    return [this.systemMessage, ...this.transcript];
  }

  private append(message: ChatMessage, emit: (e: AgentEvent) => void): void {
    this.transcript.push(message);
    this.session?.appendMessage(message);
    emit({ type: "message", message });
  }

  private askPermission(request: PermissionRequest, signal: AbortSignal): Promise<PermissionDecision> {
    if (this.askPermissionOption) return this.askPermissionOption(request, signal);
    return new Promise((resolve) => {
      const onAbort = () => {
        this.pendingPermissions.delete(request.id);
        resolve("deny");
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      this.pendingPermissions.set(request.id, (d) => {
        signal.removeEventListener("abort", onAbort);
        resolve(d);
      });
    });
  }

  private async drive(userText: string, emit: (e: AgentEvent) => void, signal: AbortSignal): Promise<void> {
    const turn = ++this.turnCount;
    emit({ type: "turn_start", turn });
    const systemPrompt = await this.getSystemPrompt();
    const schemas = this.tools.schemas();
    const execution = new ToolExecution({
      tools: this.tools,
      policy: this.permissions,
      root: this.root,
      cwd: this.cwd,
      limits: this.limits,
      emit,
      askPermission: (r, s) => this.askPermission(r, s),
      setTodos: (items) => {
        this.todoItems = items;
        this.session?.append({ type: "todos", at: new Date().toISOString(), items });
        emit({ type: "todos", items });
      },
    });
    this.append({ role: "user", content: userText }, emit);
    // Characters appended since the last exact count: the estimate that decides when to recount.
    let pendingChars = userText.length;

    for (let step = 0; ; step++) {
      if (step >= this.maxSteps) {
        emit({ type: "error", message: `stopped after ${this.maxSteps} model steps in one turn`, recoverable: true });
        emit({ type: "turn_end", reason: "max_steps" });
        return;
      }
      if (await this.needsCompaction(pendingChars, systemPrompt, schemas)) {
        await this.compactNow(emit, signal);
        pendingChars = 0;
      }
      if (signal.aborted) {
        emit({ type: "turn_end", reason: "cancelled" });
        return;
      }
      const outcome = await this.modelStep(step, this.conversation(systemPrompt), schemas, emit, signal);
      if (outcome.kind === "error") {
        emit({ type: "error", message: outcome.message, recoverable: false });
        emit({ type: "turn_end", reason: "error" });
        return;
      }
      const { message, calls, stats, endReason } = outcome;
      if (message) this.append(message, emit);
      if (stats) {
        this.lastContextTokens = stats.promptTokens + stats.generatedTokens;
        emit({ type: "step_stats", step, stats, contextTokens: this.lastContextTokens, contextWindow: this.model.contextWindow });
        pendingChars = 0;
      } else pendingChars += JSON.stringify(message ?? "").length;
      if (endReason === "cancelled" || signal.aborted) {
        emit({ type: "turn_end", reason: "cancelled" });
        return;
      }
      if (calls.length === 0) {
        if (endReason === "length") emit({ type: "error", message: "the answer was cut off at the maximum number of output tokens", recoverable: true });
        emit({ type: "turn_end", reason: "done" });
        return;
      }
      const results = await execution.runAll(calls, signal);
      for (const m of results) {
        this.append(m, emit);
        pendingChars += m.content.length;
      }
      if (signal.aborted) {
        emit({ type: "turn_end", reason: "cancelled" });
        return;
      }
    }
  }

  private async modelStep(
    step: number,
    messages: ChatMessage[],
    tools: ReturnType<ToolRegistry["schemas"]>,
    emit: (e: AgentEvent) => void,
    signal: AbortSignal,
  ): Promise<
    | { kind: "ok"; message: ChatMessage | null; calls: PendingToolCall[]; stats: GenerationStats | null; endReason: string }
    | { kind: "error"; message: string }
  > {
    let reasoning = "";
    let content = "";
    const calls = new Map<number, PendingToolCall>();
    let stats: GenerationStats | null = null;
    let endReason = "stop";
    try {
      for await (const ev of this.model.stream({ messages, tools, sampling: this.sampling }, signal)) {
        emit({ type: "model", step, event: ev });
        switch (ev.type) {
          case "reasoning":
            reasoning += ev.text;
            break;
          case "content":
            content += ev.text;
            break;
          case "tool_call_end":
            calls.set(ev.index, { id: ev.id, name: ev.name, args: ev.arguments, raw: ev.raw });
            break;
          case "tool_call_error":
            calls.set(ev.index, { id: ev.id, name: ev.name, raw: ev.raw, parseError: ev.message });
            break;
          case "stats":
            stats = ev.stats;
            break;
          case "end":
            endReason = ev.reason;
            break;
        }
      }
    } catch (err) {
      if (signal.aborted) endReason = "cancelled";
      else return { kind: "error", message: `model failed: ${(err as Error).message}` };
    }
    // A cancelled step keeps what was said but runs no half-announced tool calls.
    const ordered = endReason === "cancelled" ? [] : [...calls.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c);
    if (!content && !reasoning && ordered.length === 0) return { kind: "ok", message: null, calls: [], stats, endReason };
    // Arguments are kept as the model wrote them so re-rendering the history reproduces the
    // tokens already in the engine's KV cache (prefix reuse).
    const toolCalls: ToolCall[] = ordered.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.raw } }));
    const message: ChatMessage = {
      role: "assistant",
      content,
      ...(reasoning ? { reasoning_content: reasoning } : {}),
      ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
    };
    return { kind: "ok", message, calls: ordered, stats, endReason };
  }

  private async needsCompaction(pendingChars: number, systemPrompt: string, schemas: ReturnType<ToolRegistry["schemas"]>): Promise<boolean> {
    const limit = this.model.contextWindow * this.compactThreshold;
    // Exact counting renders and tokenizes the whole conversation; only do it when the cheap
    // estimate (last exact count + new characters / 2) says the threshold may have been reached.
    if (!this.countUnknown && this.lastContextTokens + pendingChars / 2 < limit) return false;
    this.countUnknown = false;
    const exact = await this.model.countTokens(this.conversation(systemPrompt), schemas);
    this.lastContextTokens = exact;
    return exact >= limit && this.transcript.length > 1;
  }

  private async compactNow(emit: (e: AgentEvent) => void, signal: AbortSignal, focus?: string): Promise<void> {
    const systemPrompt = await this.getSystemPrompt();
    const schemas = this.tools.schemas();
    const full = () => this.conversation(systemPrompt);
    const before = await this.model.countTokens(full(), schemas);
    const started = Date.now();
    let result;
    try {
      result = await compactMessages({ model: this.model, systemPrompt, messages: this.transcript, sampling: this.sampling, ...(focus ? { focus } : {}), signal });
    } catch (err) {
      if (signal.aborted) return;
      emit({ type: "error", message: `compaction failed: ${(err as Error).message}`, recoverable: true });
      return;
    }
    if (result.summarizedCount === 0) {
      emit({ type: "error", message: "nothing to compact yet", recoverable: true });
      return;
    }
    this.transcript = result.messages;
    this.session?.append({ type: "compaction", at: new Date().toISOString(), summary: result.summary, messages: result.messages });
    const after = await this.model.countTokens(full(), schemas);
    this.lastContextTokens = after;
    emit({ type: "compaction", beforeTokens: before, afterTokens: after, durationMs: Date.now() - started, summary: result.summary });
  }
}
