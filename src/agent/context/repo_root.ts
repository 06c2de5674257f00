// Synchronous repository-root lookup for the Agent constructor (one git call per session).
import { execFileSync } from "node:child_process";
import { realpathSync } from "node:fs";

export function findRepoRootSync(cwd: string): string {
  let top = "";
  try {
    top = execFileSync("git", ["rev-parse", "--show-toplevel"], { cwd, stdio: ["ignore", "pipe", "ignore"], timeout: 5000 }).toString().trim();
  } catch {
    top = ""; // not a git repository (or git missing): the working directory is the root
  }
  return realpathSync(top || cwd);
}
