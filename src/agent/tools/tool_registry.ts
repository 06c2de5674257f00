// The agent's tool set, by name, and their schemas as the chat template declares them.
import type { ToolSchema } from "../../chat/messages.js";
import type { Tool } from "./tool.js";
import { readFileTool } from "./read_file.js";
import { writeFileTool } from "./write_file.js";
import { editFileTool } from "./edit_file.js";
import { listDirTool } from "./list_dir.js";
import { globTool } from "./glob.js";
import { grepTool } from "./grep.js";
import { runShellTool } from "./run_shell.js";
import { todoTool } from "./todo.js";

// Tools are generic over their argument type; the registry holds them type-erased because the
// agent validates arguments against each schema before calling.
export type AnyTool = Tool<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const BUILTIN_TOOLS: readonly AnyTool[] = [
  readFileTool,
  listDirTool,
  globTool,
  grepTool,
  editFileTool,
  writeFileTool,
  runShellTool,
  todoTool,
];

export class ToolRegistry {
  private readonly byName = new Map<string, AnyTool>();
  constructor(tools: readonly AnyTool[] = BUILTIN_TOOLS) {
    for (const t of tools) this.byName.set(t.name, t);
  }
  get(name: string): AnyTool | undefined {
    return this.byName.get(name);
  }
  names(): string[] {
    return [...this.byName.keys()];
  }
  schemas(): ToolSchema[] {
    return [...this.byName.values()].map((t) => ({
      type: "function",
      function: { name: t.name, description: t.description, parameters: t.parameters },
    }));
  }
}
