// list_dir: one directory's entries (directories marked with "/"), gitignored entries hidden.
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { type Tool, ToolInputError } from "./tool.js";
import { resolveReadablePath } from "./repo_paths.js";
import { GitignoreMatcher } from "./gitignore_matcher.js";

const MAX_ENTRIES = 1000;

export interface ListDirArgs {
  path?: string;
}

export const listDirTool: Tool<ListDirArgs> = {
  name: "list_dir",
  kind: "read",
  description: "List the entries of a directory (default: the working directory). Directories end with '/'. Files ignored by .gitignore are not shown.",
  parameters: {
    type: "object",
    properties: { path: { type: "string", description: "Directory path (default \".\")" } },
    additionalProperties: false,
  },
  async preview(args, ctx) {
    return { summary: args.path ?? ".", readsPath: resolveReadablePath(ctx.root, ctx.cwd, args.path ?? ".").abs };
  },
  async run(args, ctx) {
    const dir = resolveReadablePath(ctx.root, ctx.cwd, args.path ?? ".");
    let entries;
    try {
      entries = await readdir(dir.abs, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") throw new ToolInputError(`directory not found: ${dir.rel}`);
      if (code === "ENOTDIR") throw new ToolInputError(`${dir.rel} is a file, not a directory; use read_file`);
      throw err;
    }
    const matcher = new GitignoreMatcher(ctx.root);
    const names: string[] = [];
    let hidden = 0;
    for (const e of entries) {
      const abs = path.join(dir.abs, e.name);
      let isDir = e.isDirectory();
      if (e.isSymbolicLink()) isDir = await stat(abs).then((s) => s.isDirectory(), () => false);
      if (matcher.isIgnored(abs, isDir)) {
        hidden++;
        continue;
      }
      names.push(isDir ? `${e.name}/` : e.name);
    }
    names.sort();
    const shown = names.slice(0, MAX_ENTRIES);
    const lines = [`${dir.rel}/ (${names.length} entries${hidden ? `, ${hidden} gitignored not shown` : ""})`, ...shown];
    if (names.length > MAX_ENTRIES) lines.push(`[${names.length - MAX_ENTRIES} more entries not shown; use glob with a narrower pattern]`);
    if (names.length === 0) lines.push("(empty)");
    return { ok: true, content: lines.join("\n") };
  },
};
