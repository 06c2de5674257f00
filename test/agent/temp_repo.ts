// A throwaway git repository for agent tests.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export interface TempRepo {
  root: string;
  write(rel: string, content: string | Buffer): void;
  git(...args: string[]): string;
  cleanup(): void;
}

export function makeTempRepo(files: Record<string, string | Buffer> = {}): TempRepo {
  const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), "k2-agent-")));
  const git = (...args: string[]) =>
    execFileSync("git", args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" } }).toString();
  const write = (rel: string, content: string | Buffer) => {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), content);
  };
  git("init", "-q", "-b", "main");
  for (const [rel, content] of Object.entries(files)) write(rel, content);
  if (Object.keys(files).length > 0) {
    git("add", "-A");
    git("commit", "-q", "-m", "initial");
  }
  return { root, write, git, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
