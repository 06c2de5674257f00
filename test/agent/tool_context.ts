// A ToolContext for calling tools directly in tests, recording streamed output and todos.
import type { TodoItem } from "../../src/agent/events.js";
import { DEFAULT_TOOL_LIMITS, type ToolContext, type ToolLimits } from "../../src/agent/tools/tool.js";

export function toolContext(root: string, options: { signal?: AbortSignal; limits?: Partial<ToolLimits>; cwd?: string } = {}) {
  const output: string[] = [];
  const todos: TodoItem[][] = [];
  const ctx: ToolContext = {
    root,
    cwd: options.cwd ?? root,
    signal: options.signal ?? new AbortController().signal,
    limits: { ...DEFAULT_TOOL_LIMITS, ...(options.limits ?? {}) },
    emitOutput: (c) => output.push(c),
    setTodos: (items) => todos.push(items),
  };
  return { ctx, output, todos };
}
