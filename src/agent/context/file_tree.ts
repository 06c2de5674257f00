// A capped, gitignore-aware outline of the repository for the system prompt.
import path from "node:path";
import { GitignoreMatcher } from "../tools/gitignore_matcher.js";
import { walkRepo } from "../tools/repo_walker.js";

export async function repoTree(root: string, options: { maxEntries?: number; maxDepth?: number } = {}): Promise<string> {
  const maxEntries = options.maxEntries ?? 200;
  const lines: Array<{ rel: string; isDir: boolean }> = [];
  let total = 0;
  // Counting stops somewhere: a prompt only needs "many more", not an exact walk of a huge tree.
  const countLimit = maxEntries * 20;
  for await (const e of walkRepo(new GitignoreMatcher(root), root, { maxDepth: options.maxDepth ?? 3 })) {
    total++;
    if (lines.length < maxEntries) lines.push({ rel: e.rel, isDir: e.isDir });
    if (total >= countLimit) break;
  }
  // The walk lists a directory's entries before descending; sort so children follow parents.
  lines.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  const text = lines.map((l) => `${"  ".repeat(l.rel.split("/").length - 1)}${path.posix.basename(l.rel)}${l.isDir ? "/" : ""}`);
  if (total >= countLimit) text.push(`… (more than ${countLimit - lines.length} more entries; use list_dir/glob)`);
  else if (total > lines.length) text.push(`… (${total - lines.length} more entries; use list_dir/glob)`);
  return text.join("\n");
}
