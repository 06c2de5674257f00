// Resolves paths the model names against the repository. Symlinks are resolved (through the
// nearest existing ancestor for paths not yet created) so a link cannot smuggle a read or write
// outside the root.
import { realpathSync } from "node:fs";
import path from "node:path";
import { ToolInputError } from "./tool.js";

export interface ResolvedPath {
  /** Absolute, symlink-resolved path. */
  abs: string;
  /** Relative to the root, with forward slashes ("." for the root itself). */
  rel: string;
  insideRoot: boolean;
}

function realpathOfNearestExisting(p: string): string {
  const missing: string[] = [];
  let cur = p;
  for (;;) {
    try {
      return path.join(realpathSync(cur), ...missing.reverse());
    } catch {
      const parent = path.dirname(cur);
      if (parent === cur) return p;
      missing.push(path.basename(cur));
      cur = parent;
    }
  }
}

export function isInside(root: string, abs: string): boolean {
  const rel = path.relative(root, abs);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

export function resolvePath(root: string, cwd: string, input: string): ResolvedPath {
  if (typeof input !== "string" || input.trim() === "") throw new ToolInputError("path must be a non-empty string");
  if (input.includes("\0")) throw new ToolInputError("path contains a NUL byte");
  const expanded = input.startsWith("~/") && process.env.HOME ? path.join(process.env.HOME, input.slice(2)) : input;
  const abs = realpathOfNearestExisting(path.resolve(cwd, expanded));
  const insideRoot = isInside(root, abs);
  const rel = insideRoot ? path.relative(root, abs).split(path.sep).join("/") || "." : abs;
  return { abs, rel, insideRoot };
}

/** For tools that only read: paths outside the repository are refused. */
export function resolveReadablePath(root: string, cwd: string, input: string): ResolvedPath {
  const r = resolvePath(root, cwd, input);
  if (!r.insideRoot) {
    throw new ToolInputError(`path "${input}" is outside the repository root ${root}; use a path inside the repository`);
  }
  return r;
}
