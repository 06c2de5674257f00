// Answers "would git ignore this path?" for files under the repository root, reading every
// .gitignore between the root and the path (deeper files override shallower ones, as in git).
// `.git` itself is always ignored. Used by list_dir, glob, grep and the system-prompt tree.
import { readFileSync } from "node:fs";
import path from "node:path";
import ignore, { type Ignore } from "ignore";

export class GitignoreMatcher {
  private readonly byDir = new Map<string, Ignore | null>();

  constructor(readonly root: string) {}

  private rulesFor(dir: string): Ignore | null {
    let rules = this.byDir.get(dir);
    if (rules !== undefined) return rules;
    rules = null;
    try {
      const text = readFileSync(path.join(dir, ".gitignore"), "utf8");
      rules = ignore().add(text);
    } catch (err) {
      // No .gitignore here is the common case; anything else (permissions) means "no rules" too,
      // because an unreadable ignore file must not hide files from the model.
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") rules = null;
    }
    this.byDir.set(dir, rules);
    return rules;
  }

  /** `abs` must be inside the root. Directories are matched with a trailing slash, as git does. */
  isIgnored(abs: string, isDir: boolean): boolean {
    const relToRoot = path.relative(this.root, abs);
    if (relToRoot === "") return false;
    const parts = relToRoot.split(path.sep);
    if (parts.includes(".git")) return true;
    let ignored = false;
    let dir = this.root;
    for (let i = 0; i < parts.length; i++) {
      const rules = this.rulesFor(dir);
      if (rules) {
        const rel = parts.slice(i).join("/") + (isDir ? "/" : "");
        const verdict = rules.test(rel);
        if (verdict.ignored) ignored = true;
        else if (verdict.unignored) ignored = false;
      }
      dir = path.join(dir, parts[i]!);
    }
    return ignored;
  }
}
