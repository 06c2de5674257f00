import { afterEach, beforeEach, describe, expect, it } from "vitest";
import path from "node:path";
import { makeTempRepo, type TempRepo } from "./temp_repo.js";
import { buildSystemPrompt } from "../../src/agent/context/system_prompt.js";
import { findProjectInstructions } from "../../src/agent/context/project_instructions.js";
import { findRepoRootSync } from "../../src/agent/context/repo_root.js";

let repo: TempRepo;
beforeEach(() => {
  repo = makeTempRepo({
    ".gitignore": "dist/\n",
    "AGENTS.md": "Root rules: run npm test.\n",
    "packages/web/KIMI.md": "Web rules: use React.\n",
    "packages/web/CLAUDE.md": "shadowed by KIMI.md\n",
    "packages/web/src/index.ts": "export {};\n",
    "dist/bundle.js": "ignored\n",
  });
  repo.write("packages/web/src/new.ts", "untracked\n");
});
afterEach(() => repo.cleanup());

describe("repository awareness", () => {
  it("finds the git root from a subdirectory", () => {
    expect(findRepoRootSync(path.join(repo.root, "packages/web"))).toBe(repo.root);
  });

  it("collects AGENTS.md / KIMI.md / CLAUDE.md nearest-first up to the root, one per directory, size-capped", () => {
    const files = findProjectInstructions(repo.root, path.join(repo.root, "packages/web/src"));
    expect(files.map((f) => [path.relative(repo.root, f.path), f.text])).toEqual([
      ["packages/web/KIMI.md", "Web rules: use React.\n"],
      ["AGENTS.md", "Root rules: run npm test.\n"],
    ]);
    const capped = findProjectInstructions(repo.root, path.join(repo.root, "packages/web"), { perFileChars: 5, totalChars: 8 });
    expect(capped.map((f) => [f.text, f.truncated])).toEqual([["Web r", true], ["Roo", true]]);
  });

  it("builds a system prompt with cwd, OS, date, branch, short status, gitignore-aware tree and instructions", async () => {
    const cwd = path.join(repo.root, "packages/web");
    const prompt = await buildSystemPrompt({ root: repo.root, cwd, now: new Date("2026-01-02T03:04:05Z") });
    expect(prompt).toContain(`Working directory: ${cwd}`);
    expect(prompt).toContain(`Repository root: ${repo.root}`);
    expect(prompt).toContain(`Platform: ${process.platform}`);
    expect(prompt).toContain("Date: 2026-01-02");
    expect(prompt).toContain("Git branch: main");
    expect(prompt).toContain("?? packages/web/src/new.ts");
    expect(prompt).toContain("    src/");
    expect(prompt).not.toContain("bundle.js");
    expect(prompt.indexOf("Web rules")).toBeLessThan(prompt.indexOf("Root rules"));
    expect(prompt).not.toContain("shadowed by KIMI.md");
  });

  it("caps the tree and says how much is left out", async () => {
    for (let i = 0; i < 30; i++) repo.write(`many/f${String(i).padStart(2, "0")}.txt`, "x");
    const prompt = await buildSystemPrompt({ root: repo.root, cwd: repo.root, treeEntries: 10 });
    expect(prompt).toMatch(/… \(\d+ more entries; use list_dir\/glob\)/);
  });
});
