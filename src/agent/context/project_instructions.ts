// The project's instructions for agents: in each directory from the cwd up to the repository
// root, AGENTS.md (or, failing that, KIMI.md, then CLAUDE.md). Nearest first, because the most
// specific instructions should weigh most; each file and the total are size-capped.
import { readFileSync } from "node:fs";
import path from "node:path";
import { isInside } from "../tools/repo_paths.js";

export const INSTRUCTION_FILE_NAMES = ["AGENTS.md", "KIMI.md", "CLAUDE.md"] as const;

export interface InstructionFile {
  path: string;
  text: string;
  truncated: boolean;
}

export function findProjectInstructions(root: string, cwd: string, options: { perFileChars?: number; totalChars?: number } = {}): InstructionFile[] {
  const perFile = options.perFileChars ?? 12_000;
  let budget = options.totalChars ?? 24_000;
  const dirs: string[] = [];
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (!isInside(root, dir)) break;
    dirs.push(dir);
    if (dir === root || path.dirname(dir) === dir) break;
  }
  const out: InstructionFile[] = [];
  for (const dir of dirs) {
    for (const name of INSTRUCTION_FILE_NAMES) {
      let text: string;
      try {
        text = readFileSync(path.join(dir, name), "utf8");
      } catch {
        continue;
      }
      const cap = Math.min(perFile, budget);
      if (cap <= 0) return out;
      const truncated = text.length > cap;
      out.push({ path: path.join(dir, name), text: truncated ? text.slice(0, cap) : text, truncated });
      budget -= Math.min(text.length, cap);
      break; // one file per directory: AGENTS.md shadows the fallbacks
    }
  }
  return out;
}
