// The current git branch for the status line, read from .git/HEAD (no subprocess at startup).
import { readFileSync, statSync } from "node:fs";
import path from "node:path";

export function gitBranch(cwd: string): string | null {
  let dir = path.resolve(cwd);
  for (;;) {
    const dotGit = path.join(dir, ".git");
    try {
      let gitDir = dotGit;
      if (statSync(dotGit).isFile()) {
        // worktrees and submodules: ".git" is a file "gitdir: <path>"
        const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, "utf8"));
        if (m === null) return null;
        gitDir = path.resolve(dir, m[1]!.trim());
      }
      const head = readFileSync(path.join(gitDir, "HEAD"), "utf8").trim();
      const ref = /^ref:\s*refs\/heads\/(.+)$/.exec(head);
      return ref !== null ? ref[1]! : head.slice(0, 7);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") return null;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}
