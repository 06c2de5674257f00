// todo: the model's own plan. Each call replaces the whole list; the UI shows it.
import type { TodoItem } from "../events.js";
import { type Tool, ToolInputError } from "./tool.js";

export interface TodoArgs {
  todos: TodoItem[];
}

export const todoTool: Tool<TodoArgs> = {
  name: "todo",
  kind: "meta",
  description:
    "Record your plan as a todo list shown to the user. Each call replaces the whole list. Keep at most one item in_progress; mark items completed as soon as they are done.",
  parameters: {
    type: "object",
    properties: {
      todos: {
        type: "array",
        items: {
          type: "object",
          properties: {
            content: { type: "string" },
            status: { type: "string", enum: ["pending", "in_progress", "completed"] },
          },
          required: ["content", "status"],
          additionalProperties: false,
        },
      },
    },
    required: ["todos"],
    additionalProperties: false,
  },
  async preview(args) {
    return { summary: `${args.todos.length} items` };
  },
  async run(args, ctx) {
    const inProgress = args.todos.filter((t) => t.status === "in_progress").length;
    if (inProgress > 1) throw new ToolInputError(`${inProgress} items are in_progress; keep at most one in_progress at a time`);
    ctx.setTodos(args.todos.map((t) => ({ content: t.content, status: t.status })));
    const mark = { pending: "[ ]", in_progress: "[~]", completed: "[x]" } as const;
    return { ok: true, content: args.todos.length === 0 ? "Todo list cleared." : args.todos.map((t) => `${mark[t.status]} ${t.content}`).join("\n") };
  },
};
