// Permission rules as written in .k2/settings.json and kept for a session:
//   "run_shell"                 any command
//   "run_shell(npm test:*)"     commands whose words start with `npm test`
//   "run_shell(git status)"     exactly `git status`
//   "edit_file" / "write_file"  any file inside the repository
//   "edit_file(src/**)"         files whose repo-relative path matches the glob
//   "read_file(secrets/**)"     (deny rules) reads too can be refused
import picomatch from "picomatch";
import { parse } from "shell-quote";
import { ConfigError } from "../../errors.js";

export interface PermissionRule {
  tool: string;
  /** Shell: the command words a command must start with (prefix) or equal (exact). */
  words?: string[];
  prefix?: boolean;
  /** File tools: a picomatch glob over the repository-relative path. */
  pathGlob?: string;
  /** The rule as written. */
  source: string;
}

const RULE = /^([a-z_][a-z0-9_]*)(?:\((.*)\))?$/s;

export function parseRule(text: string, where: string): PermissionRule {
  const m = RULE.exec(text.trim());
  if (!m) throw new ConfigError(`${where}: invalid permission rule ${JSON.stringify(text)}; expected TOOL or TOOL(SPEC), e.g. "run_shell(npm test:*)"`);
  const tool = m[1]!;
  const spec = m[2]?.trim();
  if (spec === undefined || spec === "" || spec === "*") return { tool, source: text };
  if (tool === "run_shell") {
    const prefix = spec.endsWith(":*");
    const body = prefix ? spec.slice(0, -2) : spec;
    const words = parse(body, (k) => `$${k}`).filter((w): w is string => typeof w === "string");
    if (words.length === 0) throw new ConfigError(`${where}: rule ${JSON.stringify(text)} names no command`);
    return { tool, words, prefix, source: text };
  }
  return { tool, pathGlob: spec, source: text };
}

export function formatShellRule(words: string[], prefix: boolean): string {
  return `run_shell(${words.join(" ")}${prefix ? ":*" : ""})`;
}

export function ruleMatchesCommand(rule: PermissionRule, argv: string[]): boolean {
  if (rule.tool !== "run_shell") return false;
  if (!rule.words) return true;
  if (argv.length < rule.words.length) return false;
  if (!rule.prefix && argv.length !== rule.words.length) return false;
  return rule.words.every((w, i) => argv[i] === w);
}

export function ruleMatchesPath(rule: PermissionRule, tool: string, relPath: string): boolean {
  if (rule.tool !== tool) return false;
  if (!rule.pathGlob) return true;
  return picomatch(rule.pathGlob, { dot: true })(relPath);
}
