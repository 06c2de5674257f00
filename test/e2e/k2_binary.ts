// The real built CLI the end-to-end tests drive, and the fixture checkpoint. Missing pieces fail
// the tests with a message saying what to build; they are never skipped.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const K2_MAIN = path.join(REPO, "dist", "src", "cli", "main.js");
export const TINY_MODEL = path.resolve(REPO, "..", "shared", "fixtures", "kimi-k2-tiny");

export function requireBuiltK2(): void {
  if (!existsSync(K2_MAIN)) throw new Error(`${K2_MAIN} is missing: run \`npx tsc -p tsconfig.json\` first`);
  if (!existsSync(path.join(REPO, "build", "Release", "k2_engine.node"))) throw new Error("the native addon is not built: run `npx node-gyp rebuild`");
  if (!existsSync(path.join(TINY_MODEL, "config.json"))) throw new Error(`${TINY_MODEL}: tiny fixture checkpoint missing (shared/ must sit beside the repo)`);
}

export function requireTmux(): void {
  const r = spawnSync("tmux", ["-V"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error("tmux is required for the TUI end-to-end test (apt-get install tmux)");
}

const sandboxes: string[] = [];

/** A private K2_HOME and an empty working folder (a small system prompt keeps prefill short). */
export function sandbox(): { home: string; cwd: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), "k2-e2e-"));
  sandboxes.push(root);
  const home = path.join(root, "home");
  const cwd = path.join(root, "work");
  execFileSync("mkdir", ["-p", home, cwd]);
  return { home, cwd };
}

/** Removes the sandboxes this test file made. */
export function removeSandboxes(): void {
  for (const dir of sandboxes.splice(0)) rmSync(dir, { recursive: true, force: true });
}
