import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { makeTempRepo, type TempRepo } from "./temp_repo.js";
import { toolContext } from "./tool_context.js";
import { runShellTool } from "../../src/agent/tools/run_shell.js";

let repo: TempRepo;
beforeEach(() => {
  repo = makeTempRepo({ "a.txt": "hello\n" });
});
afterEach(() => repo.cleanup());

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`gave up waiting for: ${what}`);
}

describe("run_shell", () => {
  it("runs in the repository, streams output and reports the exit code", async () => {
    const { ctx, output } = toolContext(repo.root);
    const r = await runShellTool.run({ command: "cat a.txt; echo err >&2; exit 3" }, ctx);
    expect(r.ok).toBe(false);
    expect(r.content).toMatch(/^exit code 3 \(/);
    expect(r.content).toContain("hello");
    expect(r.content).toContain("err");
    expect(output.join("")).toContain("hello");
  });

  it("kills the whole process tree on timeout", async () => {
    const { ctx } = toolContext(repo.root);
    // bash starts a grandchild that would outlive a kill of bash alone; it records its pid.
    const r = await runShellTool.run({ command: "(sleep 300 & echo $! > grandchild.pid; wait) ; echo never", timeout_seconds: 1 }, ctx);
    expect(r.ok).toBe(false);
    expect(r.content).toMatch(/timed out after 1 s and was killed/);
    expect(r.content).not.toContain("never");
    const pid = Number(readFileSync(path.join(repo.root, "grandchild.pid"), "utf8"));
    expect(pid).toBeGreaterThan(0);
    await waitUntil(() => !alive(pid), `grandchild ${pid} to die`);
    expect(alive(pid)).toBe(false);
  });

  it("kills the tree when the call is cancelled", async () => {
    const controller = new AbortController();
    const { ctx } = toolContext(repo.root, { signal: controller.signal });
    const running = runShellTool.run({ command: "sleep 300 & echo $! > bg.pid; wait" }, ctx);
    await waitUntil(() => existsSync(path.join(repo.root, "bg.pid")) && readFileSync(path.join(repo.root, "bg.pid"), "utf8").trim() !== "", "bg.pid");
    const pid = Number(readFileSync(path.join(repo.root, "bg.pid"), "utf8"));
    controller.abort();
    const r = await running;
    expect(r.content).toMatch(/^Command cancelled by the user/);
    await waitUntil(() => !alive(pid), `background ${pid} to die`);
  });

  it("does not hang on a backgrounded child that keeps the pipes open", async () => {
    const { ctx } = toolContext(repo.root);
    const r = await runShellTool.run({ command: "sleep 300 & echo $! > bg.pid; echo started" }, ctx);
    expect(r.content).toMatch(/^exit code 0/);
    const pid = Number(readFileSync(path.join(repo.root, "bg.pid"), "utf8"));
    await waitUntil(() => !alive(pid), `background ${pid} to be reaped`);
  });

  it("caps huge output, keeping its head and tail", async () => {
    const { ctx, output } = toolContext(repo.root, { limits: { outputChars: 1000 } });
    const r = await runShellTool.run({ command: "echo FIRST; seq 1 200000; echo LAST" }, ctx);
    expect(r.ok).toBe(true);
    expect(r.content.length).toBeLessThan(1300);
    expect(r.content).toContain("FIRST");
    expect(r.content).toContain("LAST");
    expect(r.content).toMatch(/characters omitted/);
    expect(output.join("").length).toBeGreaterThan(1_000_000); // the UI got the whole stream
  });
});
