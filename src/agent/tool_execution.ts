// Runs one assistant step's tool calls: validate arguments, preview, check permissions (asking
// the user when needed), run, and turn each outcome into a `tool` message carrying the model's
// own call id. Consecutive read-only calls run concurrently; anything that changes the repository
// runs alone and in order, so a later call sees the effect of an earlier one.
import type { ChatMessage } from "../chat/messages.js";
import type { AgentEvent, PermissionDecision, PermissionRequest, TodoItem } from "./events.js";
import type { PermissionPolicy } from "./permissions/permission_policy.js";
import { validateArguments } from "./tools/argument_validation.js";
import { type ToolContext, type ToolLimits, type ToolResult, ToolInputError } from "./tools/tool.js";
import type { AnyTool, ToolRegistry } from "./tools/tool_registry.js";
import { truncateForModel } from "./tools/output_budget.js";

export interface PendingToolCall {
  id: string;
  name: string;
  /** Parsed arguments, or undefined when the model's JSON did not parse. */
  args?: Record<string, unknown>;
  raw: string;
  parseError?: string;
}

export type ToolMessage = Extract<ChatMessage, { role: "tool" }>;

export interface ToolExecutionDeps {
  tools: ToolRegistry;
  policy: PermissionPolicy;
  root: string;
  cwd: string;
  limits: ToolLimits;
  emit(event: AgentEvent): void;
  askPermission(request: PermissionRequest, signal: AbortSignal): Promise<PermissionDecision>;
  setTodos(items: TodoItem[]): void;
}

let permissionCounter = 0;

export class ToolExecution {
  constructor(private readonly deps: ToolExecutionDeps) {}

  async runAll(calls: PendingToolCall[], signal: AbortSignal): Promise<ToolMessage[]> {
    const results: ToolMessage[] = new Array(calls.length);
    let i = 0;
    while (i < calls.length) {
      const tool = this.deps.tools.get(calls[i]!.name);
      if (tool && (tool.kind === "read" || tool.kind === "meta")) {
        let j = i;
        while (j < calls.length) {
          const t = this.deps.tools.get(calls[j]!.name);
          if (!t || (t.kind !== "read" && t.kind !== "meta")) break;
          j++;
        }
        const batch = await Promise.all(calls.slice(i, j).map((c) => this.runOne(c, signal)));
        batch.forEach((m, k) => (results[i + k] = m));
        i = j;
      } else {
        results[i] = await this.runOne(calls[i]!, signal);
        i++;
      }
    }
    return results;
  }

  private message(call: PendingToolCall, content: string): ToolMessage {
    return { role: "tool", tool_call_id: call.id, name: call.name, content };
  }

  private finish(call: PendingToolCall, started: number, result: ToolResult): ToolMessage {
    const content = truncateForModel(result.content, this.deps.limits.outputChars, "Narrow the request (line range, path, pattern) to see the rest.");
    this.deps.emit({ type: "tool_end", callId: call.id, name: call.name, ok: result.ok, result: content, ...(result.diff ? { diff: result.diff } : {}), durationMs: Date.now() - started });
    return this.message(call, content);
  }

  private async runOne(call: PendingToolCall, signal: AbortSignal): Promise<ToolMessage> {
    const started = Date.now();
    const { emit } = this.deps;
    const fail = (summary: string, text: string) => {
      emit({ type: "tool_start", callId: call.id, name: call.name, args: call.args ?? {}, summary });
      return this.finish(call, started, { ok: false, content: `Error: ${text}` });
    };
    if (signal.aborted) return fail(call.name, "cancelled by the user before it ran.");
    if (call.parseError !== undefined || call.args === undefined) {
      return fail(call.name, `the arguments of ${call.name} are not valid JSON (${call.parseError ?? "unparseable"}). Resend the call with a single JSON object as arguments.`);
    }
    const tool = this.deps.tools.get(call.name);
    if (!tool) return fail(call.name, `there is no tool named "${call.name}". Available tools: ${this.deps.tools.names().join(", ")}.`);

    let args: Record<string, unknown>;
    try {
      args = validateArguments(call.args, tool.parameters);
    } catch (err) {
      if (err instanceof ToolInputError) return fail(call.name, `${call.name}: ${err.message}.`);
      throw err;
    }
    const ctx = this.context(call, signal);
    let preview;
    try {
      preview = await tool.preview(args, ctx);
    } catch (err) {
      if (err instanceof ToolInputError) return fail(call.name, `${call.name}: ${err.message}`);
      throw err;
    }
    emit({ type: "tool_start", callId: call.id, name: call.name, args, summary: preview.summary });

    const verdict = this.deps.policy.evaluate({ tool: tool.name, kind: tool.kind, preview });
    if (verdict.action === "deny") return this.finish(call, started, { ok: false, content: `Permission denied: ${verdict.reason}. Do not retry this call; choose another approach or ask the user.` });
    if (verdict.action === "ask") {
      const request: PermissionRequest = {
        id: `perm-${++permissionCounter}`,
        tool: tool.name,
        summary: preview.summary,
        ...(preview.diff ? { diff: preview.diff } : {}),
        suggestedRule: verdict.suggestedRule,
      };
      emit({ type: "permission_request", request });
      const decision = await this.deps.askPermission(request, signal);
      if (signal.aborted) return this.finish(call, started, { ok: false, content: "Error: cancelled by the user." });
      if (decision === "deny") {
        return this.finish(call, started, { ok: false, content: "The user denied permission for this call. Do not retry it; ask the user how to proceed or choose another approach." });
      }
      try {
        if (!verdict.outsideRoot) await this.deps.policy.remember(decision, verdict.suggestedRule);
      } catch (err) {
        // The call itself was approved; only saving the rule failed (e.g. a malformed settings file).
        emit({ type: "error", message: `could not save permission rule: ${(err as Error).message}`, recoverable: true });
      }
    }
    return this.finish(call, started, await this.execute(tool, args, ctx));
  }

  private async execute(tool: AnyTool, args: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult> {
    try {
      return await tool.run(args, ctx);
    } catch (err) {
      if (err instanceof ToolInputError) return { ok: false, content: `Error: ${tool.name}: ${err.message}` };
      const message = `${tool.name} failed: ${(err as Error).message}`;
      this.deps.emit({ type: "error", message, recoverable: true });
      return { ok: false, content: `Error: ${message}` };
    }
  }

  private context(call: PendingToolCall, signal: AbortSignal): ToolContext {
    return {
      root: this.deps.root,
      cwd: this.deps.cwd,
      signal,
      limits: this.deps.limits,
      emitOutput: (chunk) => this.deps.emit({ type: "tool_output", callId: call.id, chunk }),
      setTodos: (items) => this.deps.setTodos(items),
    };
  }
}
