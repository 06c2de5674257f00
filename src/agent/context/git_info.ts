// What git says about the working directory: repository root, branch, short status.
// Not being in a git repository is normal (the cwd is then the root); git missing is too.
import { execFile } from "node:child_process";
import { realpathSync } from "node:fs";

function git(cwd: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile("git", args, { cwd, timeout: 5000, maxBuffer: 4 * 1024 * 1024, env: { ...process.env, GIT_OPTIONAL_LOCKS: "0" } }, (err, stdout) => {
      resolve(err ? null : stdout);
    });
  });
}

export async function findRepoRoot(cwd: string): Promise<string> {
  const top = await git(cwd, ["rev-parse", "--show-toplevel"]);
  return realpathSync(top?.trim() || cwd);
}

export interface GitSummary {
  branch: string | null;
  /** `git status --short` lines, capped. */
  status: string[];
  statusTotal: number;
}

export async function gitSummary(root: string, maxStatusLines = 30): Promise<GitSummary | null> {
  const inside = await git(root, ["rev-parse", "--is-inside-work-tree"]);
  if (inside?.trim() !== "true") return null;
  const branch = (await git(root, ["branch", "--show-current"]))?.trim() || null;
  const status = ((await git(root, ["status", "--short"])) ?? "").split("\n").filter((l) => l.trim() !== "");
  return { branch, status: status.slice(0, maxStatusLines), statusTotal: status.length };
}
