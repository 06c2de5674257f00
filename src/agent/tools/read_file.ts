// read_file: numbered lines of a text file, optionally a range. Numbers let the model cite and
// page; long lines are clipped so one minified file cannot eat the context.
import { DEFAULT_TOOL_LIMITS, type Tool } from "./tool.js";
import { resolveReadablePath } from "./repo_paths.js";
import { readTextFile } from "./file_text.js";
import { truncateForModel } from "./output_budget.js";

const DEFAULT_LINES = 2000;
const MAX_LINE_CHARS = 2000;

export interface ReadFileArgs {
  path: string;
  offset?: number;
  limit?: number;
}

export const readFileTool: Tool<ReadFileArgs> = {
  name: "read_file",
  kind: "read",
  description:
    "Read a text file in the repository. Returns numbered lines (`N\\tline`). Use offset (1-based first line) and limit (line count) to page through large files; by default the first 2000 lines are shown.",
  parameters: {
    type: "object",
    properties: {
      path: { type: "string", description: "File path, relative to the working directory or absolute inside the repository" },
      offset: { type: "integer", minimum: 1, description: "First line to show (1-based)" },
      limit: { type: "integer", minimum: 1, description: "Number of lines to show" },
    },
    required: ["path"],
    additionalProperties: false,
  },
  async preview(args, ctx) {
    return { summary: args.path, readsPath: resolveReadablePath(ctx.root, ctx.cwd, args.path).abs };
  },
  async run(args, ctx) {
    const file = resolveReadablePath(ctx.root, ctx.cwd, args.path);
    const text = await readTextFile(file.abs, file.rel);
    if (text.length === 0) return { ok: true, content: `(${file.rel} is empty)` };
    const lines = text.split("\n");
    if (lines.at(-1) === "") lines.pop();
    const offset = args.offset ?? 1;
    if (offset > lines.length) {
      return { ok: false, content: `Error: offset ${offset} is past the end of ${file.rel}, which has ${lines.length} lines` };
    }
    const limit = args.limit ?? DEFAULT_LINES;
    const end = Math.min(lines.length, offset - 1 + limit);
    const width = String(end).length;
    const out: string[] = [];
    for (let i = offset - 1; i < end; i++) {
      let line = lines[i]!;
      if (line.length > MAX_LINE_CHARS) line = `${line.slice(0, MAX_LINE_CHARS)}… [line clipped at ${MAX_LINE_CHARS} of ${line.length} chars]`;
      out.push(`${String(i + 1).padStart(width)}\t${line}`);
    }
    if (end < lines.length) out.push(`[showing lines ${offset}-${end} of ${lines.length}; call read_file with offset ${end + 1} for more]`);
    const budget = ctx.limits?.outputChars ?? DEFAULT_TOOL_LIMITS.outputChars;
    return { ok: true, content: truncateForModel(out.join("\n"), budget, `Call read_file with a smaller limit or a later offset to see the rest.`) };
  },
};
