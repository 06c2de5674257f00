// The system prompt of a coding session: who k2 is, how to use the tools, and the repository it
// is working in. Built once per session so the prompt prefix (and the engine's KV cache of it)
// stays identical for the session's lifetime.
import os from "node:os";
import path from "node:path";
import { gitSummary } from "./git_info.js";
import { findProjectInstructions } from "./project_instructions.js";
import { repoTree } from "./file_tree.js";

export interface SystemPromptOptions {
  root: string;
  cwd: string;
  now?: Date;
  treeEntries?: number;
}

const GUIDANCE = `You are k2, a coding agent running locally in the user's terminal. You help with software engineering tasks in the repository described below by calling tools.

- Explore before you change: use list_dir, glob, grep and read_file to find the relevant code; read a file before editing it.
- Change files with edit_file (exact, unique string replacement) or write_file (whole new files). Keep changes minimal and in the style of the surrounding code.
- Verify with run_shell (build, tests, linters) when the project has them. Commands run in the repository; do not start servers or interactive programs.
- For multi-step work keep a plan with the todo tool and update it as you go.
- Independent reads can be issued as several tool calls at once.
- If a tool returns an error, read it and adjust the call rather than repeating it.
- When the task is done, answer briefly: what you changed and how you verified it.`;

export async function buildSystemPrompt(options: SystemPromptOptions): Promise<string> {
  const { root, cwd } = options;
  const now = options.now ?? new Date();
  const git = await gitSummary(root);
  const env = [
    `Working directory: ${cwd}`,
    root !== cwd ? `Repository root: ${root}` : null,
    `Platform: ${os.platform()} ${os.release()} (${os.arch()})`,
    `Date: ${now.toISOString().slice(0, 10)}`,
    git ? `Git branch: ${git.branch ?? "(detached HEAD)"}` : "Not a git repository.",
  ].filter((l): l is string => l !== null);
  const parts = [GUIDANCE, `# Environment\n${env.join("\n")}`];
  if (git) {
    const status = git.status.length === 0 ? "(clean)" : git.status.join("\n") + (git.statusTotal > git.status.length ? `\n… ${git.statusTotal - git.status.length} more` : "");
    parts.push(`# Git status (at session start)\n${status}`);
  }
  parts.push(`# Files (gitignored files omitted)\n${await repoTree(root, { maxEntries: options.treeEntries ?? 200 })}`);
  for (const f of findProjectInstructions(root, cwd)) {
    parts.push(`# Project instructions from ${path.relative(root, f.path) || f.path}\n${f.text}${f.truncated ? "\n[truncated]" : ""}`);
  }
  return parts.join("\n\n");
}
