// Walks the repository depth-first in sorted order, skipping gitignored files and directories.
import { opendir } from "node:fs/promises";
import path from "node:path";
import type { GitignoreMatcher } from "./gitignore_matcher.js";

export interface WalkEntry {
  abs: string;
  /** Relative to the root, forward slashes. */
  rel: string;
  isDir: boolean;
}

export async function* walkRepo(
  matcher: GitignoreMatcher,
  start: string,
  options: { signal?: AbortSignal; maxDepth?: number } = {},
): AsyncGenerator<WalkEntry> {
  const maxDepth = options.maxDepth ?? Infinity;
  const stack: Array<{ dir: string; depth: number }> = [{ dir: start, depth: 0 }];
  while (stack.length > 0) {
    if (options.signal?.aborted) return;
    const { dir, depth } = stack.pop()!;
    let names: Array<{ name: string; isDir: boolean }>;
    try {
      names = [];
      for await (const d of await opendir(dir)) names.push({ name: d.name, isDir: d.isDirectory() });
    } catch {
      continue; // unreadable directory: skip it rather than abort the whole walk
    }
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subdirs: string[] = [];
    for (const { name, isDir } of names) {
      const abs = path.join(dir, name);
      if (matcher.isIgnored(abs, isDir)) continue;
      yield { abs, rel: path.relative(matcher.root, abs).split(path.sep).join("/"), isDir };
      if (isDir && depth + 1 < maxDepth) subdirs.push(abs);
    }
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push({ dir: subdirs[i]!, depth: depth + 1 });
  }
}
