// grep: regular-expression search over repository files (JavaScript regex syntax), gitignore-aware,
// binary files skipped, results capped, each as path:line: text.
import { readFile } from "node:fs/promises";
import path from "node:path";
import picomatch from "picomatch";
import { type Tool, ToolInputError } from "./tool.js";
import { resolveReadablePath } from "./repo_paths.js";
import { GitignoreMatcher } from "./gitignore_matcher.js";
import { walkRepo } from "./repo_walker.js";
import { looksBinary, MAX_TEXT_FILE_BYTES } from "./file_text.js";
import { stat } from "node:fs/promises";

const DEFAULT_MAX_RESULTS = 200;
const MAX_LINE_CHARS = 300;

export interface GrepArgs {
  pattern: string;
  path?: string;
  glob?: string;
  ignore_case?: boolean;
  max_results?: number;
}

export const grepTool: Tool<GrepArgs> = {
  name: "grep",
  kind: "read",
  description:
    "Search file contents with a regular expression (JavaScript syntax). Searches `path` (a file or directory, default the working directory), optionally only files matching `glob`. Gitignored and binary files are skipped. Returns `path:line: text` lines.",
  parameters: {
    type: "object",
    properties: {
      pattern: { type: "string", description: "Regular expression" },
      path: { type: "string", description: "File or directory to search (default \".\")" },
      glob: { type: "string", description: "Only search files whose path matches this glob, e.g. \"*.ts\" or \"src/**\"" },
      ignore_case: { type: "boolean", description: "Case-insensitive match" },
      max_results: { type: "integer", minimum: 1, description: `Maximum matching lines (default ${DEFAULT_MAX_RESULTS})` },
    },
    required: ["pattern"],
    additionalProperties: false,
  },
  async preview(args, ctx) {
    return { summary: `/${args.pattern}/${args.path ? ` in ${args.path}` : ""}`, readsPath: resolveReadablePath(ctx.root, ctx.cwd, args.path ?? ".").abs };
  },
  async run(args, ctx) {
    let re: RegExp;
    try {
      re = new RegExp(args.pattern, args.ignore_case ? "i" : "");
    } catch (err) {
      throw new ToolInputError(`invalid regular expression: ${(err as Error).message}`);
    }
    const base = resolveReadablePath(ctx.root, ctx.cwd, args.path ?? ".");
    const info = await stat(base.abs).catch(() => null);
    if (!info) throw new ToolInputError(`path not found: ${base.rel}`);
    const fileFilter = args.glob ? picomatch(args.glob, { dot: true, matchBase: !args.glob.includes("/") }) : () => true;
    const max = args.max_results ?? DEFAULT_MAX_RESULTS;
    const matcher = new GitignoreMatcher(ctx.root);
    const files: string[] = [];
    if (info.isFile()) files.push(base.abs);
    else {
      for await (const e of walkRepo(matcher, base.abs, { signal: ctx.signal })) {
        if (!e.isDir && fileFilter(path.relative(base.abs, e.abs).split(path.sep).join("/"))) files.push(e.abs);
      }
    }
    const out: string[] = [];
    let total = 0;
    let filesWithMatches = 0;
    for (const abs of files) {
      if (ctx.signal.aborted) break;
      let bytes: Buffer;
      try {
        if ((await stat(abs)).size > MAX_TEXT_FILE_BYTES) continue;
        bytes = await readFile(abs);
      } catch {
        continue; // vanished or unreadable between walk and read
      }
      if (looksBinary(bytes)) continue;
      const rel = path.relative(ctx.root, abs).split(path.sep).join("/");
      const lines = bytes.toString("utf8").split("\n");
      let hit = false;
      for (let i = 0; i < lines.length; i++) {
        if (!re.test(lines[i]!)) continue;
        hit = true;
        total++;
        if (out.length < max) {
          const line = lines[i]!.length > MAX_LINE_CHARS ? `${lines[i]!.slice(0, MAX_LINE_CHARS)}…` : lines[i]!;
          out.push(`${rel}:${i + 1}: ${line}`);
        }
      }
      if (hit) filesWithMatches++;
    }
    if (total === 0) return { ok: true, content: `No matches for /${args.pattern}/ in ${base.rel} (${files.length} files searched).` };
    if (total > out.length) out.push(`[${total - out.length} more matching lines not shown (${total} in ${filesWithMatches} files); narrow the pattern, path or glob, or raise max_results]`);
    return { ok: true, content: out.join("\n") };
  },
};
