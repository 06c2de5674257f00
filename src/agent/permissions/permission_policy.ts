// Decides whether a tool call runs, is refused, or needs the user's approval.
// Order: deny rules win over everything; writes outside the repository root always ask; reads and
// the todo list run freely; yolo runs everything else; allow rules (project file, this session,
// --allow-tools) approve matching calls; auto-edit approves file edits; anything else asks.
// Without a user to ask (`k2 -p`), "ask" becomes a refusal the model is told about.
import type { PermissionDecision, PermissionMode } from "../events.js";
import type { ToolKind, ToolPreview } from "../tools/tool.js";
import { isInside } from "../tools/repo_paths.js";
import { parseShellCommand } from "./shell_command_parse.js";
import {
  formatShellRule,
  parseRule,
  ruleMatchesCommand,
  ruleMatchesPath,
  type PermissionRule,
} from "./permission_rules.js";
import { loadProjectRules, saveProjectAllowRule, type ProjectRules } from "./project_settings.js";
import path from "node:path";

export type Verdict =
  | { action: "allow" }
  | { action: "deny"; reason: string }
  /** `outsideRoot`: an "always" answer is not remembered, since such writes ask every time. */
  | { action: "ask"; suggestedRule: string; reason: string; outsideRoot?: boolean };

export const PERMISSION_MODES: readonly PermissionMode[] = ["ask", "auto-edit", "yolo"];

export interface PermissionPolicyOptions {
  root: string;
  mode?: PermissionMode;
  /** false for `k2 -p`: calls that would ask are refused instead. */
  interactive?: boolean;
  /** `--allow-tools`: true approves every mutating call inside the root; a list adds allow rules. */
  allowTools?: true | string[];
  /** Rules of the project file; read from `.k2/settings.json` when omitted. */
  projectRules?: ProjectRules;
}

export interface ToolCallForPolicy {
  tool: string;
  kind: ToolKind;
  preview: ToolPreview;
}

const SHELL_SUBCOMMAND_TOOLS = new Set(["npm", "npx", "pnpm", "yarn", "git", "cargo", "go", "make", "docker", "kubectl", "pip", "python", "python3", "node", "bun", "deno", "uv"]);

/** "npm test -- x" → run_shell(npm test:*); "ls -la" → run_shell(ls:*). */
export function suggestShellRule(command: string): string {
  const first = parseShellCommand(command).commands[0]?.argv ?? [];
  if (first.length === 0) return "run_shell";
  const second = first[1];
  const words = SHELL_SUBCOMMAND_TOOLS.has(first[0]!) && second !== undefined && /^[A-Za-z][\w:.-]*$/.test(second) ? first.slice(0, 2) : first.slice(0, 1);
  return formatShellRule(words, true);
}

export class PermissionPolicy {
  readonly root: string;
  mode: PermissionMode;
  readonly interactive: boolean;
  private project: ProjectRules;
  private readonly sessionAllow: PermissionRule[] = [];
  private readonly allowAll: boolean;

  constructor(options: PermissionPolicyOptions) {
    this.root = options.root;
    this.mode = options.mode ?? "ask";
    this.interactive = options.interactive ?? true;
    this.project = options.projectRules ?? loadProjectRules(options.root);
    this.allowAll = options.allowTools === true;
    if (Array.isArray(options.allowTools)) {
      for (const r of options.allowTools) this.sessionAllow.push(parseRule(r, "--allow-tools"));
    }
  }

  cycleMode(): PermissionMode {
    this.mode = PERMISSION_MODES[(PERMISSION_MODES.indexOf(this.mode) + 1) % PERMISSION_MODES.length]!;
    return this.mode;
  }

  /** Re-reads the project file (after the user edited it by hand). */
  reload(): void {
    this.project = loadProjectRules(this.root);
  }

  /** Written paths, or for read-only tools the path read, relative to the root when inside it. */
  private relPaths(preview: ToolPreview): Array<{ rel: string; inside: boolean }> {
    return (preview.writesPaths ?? (preview.readsPath !== undefined ? [preview.readsPath] : [])).map((abs) => {
      const inside = isInside(this.root, abs);
      return { rel: inside ? path.relative(this.root, abs).split(path.sep).join("/") : abs, inside };
    });
  }

  private matchesAny(rules: PermissionRule[], call: ToolCallForPolicy, every: boolean): boolean {
    if (call.tool === "run_shell") {
      const parsed = parseShellCommand(call.preview.command ?? "");
      const test = (argv: string[]) => rules.some((r) => ruleMatchesCommand(r, argv));
      if (parsed.commands.length === 0) return false;
      return every ? parsed.commands.every((c) => test(c.argv)) : parsed.commands.some((c) => test(c.argv));
    }
    const paths = this.relPaths(call.preview);
    if (paths.length === 0) return rules.some((r) => r.tool === call.tool && !r.pathGlob);
    const test = (rel: string) => rules.some((r) => ruleMatchesPath(r, call.tool, rel));
    return every ? paths.every((p) => test(p.rel)) : paths.some((p) => test(p.rel));
  }

  evaluate(call: ToolCallForPolicy): Verdict {
    if (this.matchesAny(this.project.deny, call, false)) {
      return { action: "deny", reason: `denied by a rule in .k2/settings.json` };
    }
    const verdict = this.evaluateAllowed(call);
    if (verdict.action === "ask" && !this.interactive) {
      return {
        action: "deny",
        reason: `${call.tool} needs approval and k2 is running non-interactively (${verdict.reason}); rerun with --allow-tools or --yolo to permit it`,
      };
    }
    return verdict;
  }

  private evaluateAllowed(call: ToolCallForPolicy): Verdict {
    const outside = (call.preview.writesPaths ? this.relPaths(call.preview) : []).filter((p) => !p.inside);
    if (outside.length > 0) {
      // Outside the root no rule or mode approves: every such write is shown to the user.
      if (!this.interactive && this.mode === "yolo") return { action: "allow" };
      return { action: "ask", suggestedRule: `${call.tool}(${outside[0]!.rel})`, reason: `writes outside the repository: ${outside.map((p) => p.rel).join(", ")}`, outsideRoot: true };
    }
    if (call.kind === "read" || call.kind === "meta") return { action: "allow" };
    if (this.mode === "yolo" || this.allowAll) return { action: "allow" };
    const allow = [...this.project.allow, ...this.sessionAllow];
    if (call.tool === "run_shell") {
      const parsed = parseShellCommand(call.preview.command ?? "");
      const suggestedRule = suggestShellRule(call.preview.command ?? "");
      if (parsed.hasSubstitution) return { action: "ask", suggestedRule, reason: "the command uses command substitution" };
      if (parsed.hasFileRedirect) return { action: "ask", suggestedRule, reason: "the command redirects output to a file" };
      if (this.matchesAny(allow, call, true)) return { action: "allow" };
      return { action: "ask", suggestedRule, reason: "shell commands need approval" };
    }
    if (this.matchesAny(allow, call, true)) return { action: "allow" };
    if (call.kind === "edit" && this.mode === "auto-edit") return { action: "allow" };
    return { action: "ask", suggestedRule: call.tool, reason: "file changes need approval in ask mode" };
  }

  /** Applies the user's answer to a prompt: remembers "session"/"project" rules. */
  async remember(decision: PermissionDecision, rule: string): Promise<void> {
    if (decision === "session" || decision === "project") this.sessionAllow.push(parseRule(rule, "approval"));
    if (decision === "project") {
      await saveProjectAllowRule(this.root, rule);
      this.project = loadProjectRules(this.root);
    }
  }
}
