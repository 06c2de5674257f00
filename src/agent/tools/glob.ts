// glob: files matching a pattern under a directory, gitignore-aware, sorted by path.
import picomatch from "picomatch";
import { type Tool, ToolInputError } from "./tool.js";
import { resolveReadablePath } from "./repo_paths.js";
import { GitignoreMatcher } from "./gitignore_matcher.js";
import { walkRepo } from "./repo_walker.js";
import path from "node:path";

const MAX_RESULTS = 500;

export interface GlobArgs {
  pattern: string;
  path?: string;
}

export const globTool: Tool<GlobArgs> = {
  name: "glob",
  kind: "read",
  description:
    "Find files by glob pattern (e.g. \"src/**/*.ts\", \"**/package.json\"), relative to `path` (default: the working directory). Gitignored files are skipped. Returns repository-relative paths.",
  parameters: {
    type: "object",
    properties: {
      pattern: { type: "string", description: "Glob pattern (picomatch syntax: *, **, {a,b}, [abc])" },
      path: { type: "string", description: "Directory to search from (default \".\")" },
    },
    required: ["pattern"],
    additionalProperties: false,
  },
  async preview(args, ctx) {
    return { summary: `${args.pattern}${args.path ? ` in ${args.path}` : ""}`, readsPath: resolveReadablePath(ctx.root, ctx.cwd, args.path ?? ".").abs };
  },
  async run(args, ctx) {
    if (args.pattern.trim() === "") throw new ToolInputError("pattern is empty");
    const base = resolveReadablePath(ctx.root, ctx.cwd, args.path ?? ".");
    let isMatch: (p: string) => boolean;
    try {
      isMatch = picomatch(args.pattern.replace(/^\.\//, ""), { dot: true });
    } catch (err) {
      throw new ToolInputError(`invalid glob pattern "${args.pattern}": ${(err as Error).message}`);
    }
    const matcher = new GitignoreMatcher(ctx.root);
    const found: string[] = [];
    let total = 0;
    for await (const e of walkRepo(matcher, base.abs, { signal: ctx.signal })) {
      if (e.isDir) continue;
      const relToBase = path.relative(base.abs, e.abs).split(path.sep).join("/");
      if (!isMatch(relToBase)) continue;
      total++;
      if (found.length < MAX_RESULTS) found.push(e.rel);
    }
    if (total === 0) return { ok: true, content: `No files match ${args.pattern} under ${base.rel}.` };
    const lines = [...found];
    if (total > found.length) lines.push(`[${total - found.length} more matches not shown; narrow the pattern or path]`);
    return { ok: true, content: lines.join("\n") };
  },
};
