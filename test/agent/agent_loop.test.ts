import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { makeTempRepo, type TempRepo } from "./temp_repo.js";
import { ScriptedChatModel, type ScriptStep } from "../helpers/scripted_chat_model.js";
import { Agent, type AgentOptions } from "../../src/agent/agent.js";
import type { AgentEvent } from "../../src/agent/events.js";
import { INIT_PROMPT } from "../../src/agent/init_prompt.js";
import { buildSystemPrompt } from "../../src/agent/context/system_prompt.js";

let repo: TempRepo;
beforeEach(() => {
  repo = makeTempRepo({ "src/app.ts": "export const port = 3000;\n", "README.md": "# app\n" });
});
afterEach(() => repo.cleanup());

function agentFor(script: ScriptStep[], options: Partial<AgentOptions> = {}) {
  const model = new ScriptedChatModel(script, options.model?.contextWindow);
  const agent = new Agent({ model, cwd: repo.root, systemPrompt: "SYSTEM", ...options });
  return { agent, model };
}

async function collect(gen: AsyncIterable<AgentEvent>, onEvent?: (e: AgentEvent) => void): Promise<AgentEvent[]> {
  const out: AgentEvent[] = [];
  for await (const e of gen) {
    out.push(e);
    onEvent?.(e);
  }
  return out;
}

describe("agent loop", () => {
  it("runs parallel reads, asks before editing, feeds results back with the model's ids, ends without tool calls", async () => {
    const { agent, model } = agentFor([
      {
        reasoning: "Look at the code first.",
        calls: [
          { name: "read_file", args: { path: "src/app.ts" } },
          { name: "list_dir", args: {} },
        ],
      },
      { reasoning: "Change the port.", calls: [{ name: "edit_file", args: { path: "src/app.ts", old_string: "3000", new_string: "8080" } }] },
      { content: "Port changed to 8080." },
    ]);
    const events = await collect(agent.run("use port 8080"), (e) => {
      if (e.type === "permission_request") agent.respondToPermission(e.request.id, "once");
    });

    expect(readFileSync(path.join(repo.root, "src/app.ts"), "utf8")).toBe("export const port = 8080;\n");
    const perm = events.find((e) => e.type === "permission_request");
    expect(perm?.type === "permission_request" && perm.request).toMatchObject({ tool: "edit_file", summary: "edit src/app.ts", suggestedRule: "edit_file" });
    expect(perm?.type === "permission_request" && perm.request.diff).toContain("+export const port = 8080;");

    const roles = agent.messages.map((m) => (m.role === "tool" ? `tool:${m.tool_call_id}` : m.role));
    expect(roles).toEqual(["user", "assistant", "tool:functions.read_file:0", "tool:functions.list_dir:1", "assistant", "tool:functions.edit_file:2", "assistant"]);
    const first = agent.messages[1]!;
    expect(first.role === "assistant" && first.reasoning_content).toBe("Look at the code first.");
    expect(first.role === "assistant" && first.tool_calls?.[0]).toEqual({ id: "functions.read_file:0", type: "function", function: { name: "read_file", arguments: '{"path":"src/app.ts"}' } });
    expect(agent.messages[2]!.role === "tool" && agent.messages[2]!.content).toBe("1\texport const port = 3000;");
    // Each step's request is the previous request plus the new messages (append-only history).
    expect(model.requests).toHaveLength(3);
    for (let i = 1; i < model.requests.length; i++) {
      const prev = model.requests[i - 1]!.messages;
      expect(model.requests[i]!.messages.slice(0, prev.length)).toEqual(prev);
    }
    expect(model.requests[0]!.messages[0]).toEqual({ role: "system", content: "SYSTEM" });
    expect(model.requests[0]!.tools?.map((t) => t.function.name)).toEqual(["read_file", "list_dir", "glob", "grep", "edit_file", "write_file", "run_shell", "todo"]);
    expect(events.at(-1)).toEqual({ type: "turn_end", reason: "done" });
    const toolEnds = events.filter((e) => e.type === "tool_end");
    const ends = toolEnds.map((e) => (e.type === "tool_end" ? `${e.name}:${e.ok}` : ""));
    // The two reads ran concurrently (either may finish first); the edit ran after both.
    expect(ends.slice(0, 2).sort()).toEqual(["list_dir:true", "read_file:true"]);
    expect(ends[2]).toBe("edit_file:true");
  });

  it("tells the model about malformed arguments, unknown tools, bad arguments and denials, and keeps going", async () => {
    const { agent } = agentFor([
      {
        calls: [
          { name: "read_file", args: '{"path": "src/app.ts"' },
          { name: "delete_everything", args: {} },
          { name: "read_file", args: { file: "x" } },
          { name: "run_shell", args: { command: "touch made-by-shell" } },
        ],
      },
      { content: "I could not run the command." },
    ]);
    const events = await collect(agent.run("go"), (e) => {
      if (e.type === "permission_request") agent.respondToPermission(e.request.id, "deny");
    });
    const results = agent.messages.filter((m) => m.role === "tool").map((m) => (m.role === "tool" ? m.content : ""));
    expect(results[0]).toMatch(/^Error: the arguments of read_file are not valid JSON .*Resend the call/);
    expect(results[1]).toMatch(/^Error: there is no tool named "delete_everything"\. Available tools: read_file, /);
    expect(results[2]).toBe('Error: read_file: missing required argument "path".');
    expect(results[3]).toMatch(/^The user denied permission for this call/);
    // The malformed call is kept verbatim in the transcript, as the model wrote it.
    const call = agent.messages[1]!;
    expect(call.role === "assistant" && call.tool_calls?.[0]?.function.arguments).toBe('{"path": "src/app.ts"');
    expect(() => readFileSync(path.join(repo.root, "made-by-shell"))).toThrow();
    expect(events.at(-1)).toEqual({ type: "turn_end", reason: "done" });
  });

  it("'always for this session' stops asking for the same command prefix", async () => {
    const { agent } = agentFor([
      { calls: [{ name: "run_shell", args: { command: "echo one" } }] },
      { calls: [{ name: "run_shell", args: { command: "echo two" } }] },
      { content: "done" },
    ]);
    let asked = 0;
    const events = await collect(agent.run("go"), (e) => {
      if (e.type === "permission_request") {
        asked++;
        expect(e.request.suggestedRule).toBe("run_shell(echo:*)");
        agent.respondToPermission(e.request.id, "session");
      }
    });
    expect(asked).toBe(1);
    expect(events.filter((e) => e.type === "tool_output").map((e) => (e.type === "tool_output" ? e.chunk : "")).join("")).toBe("one\ntwo\n");
  });

  it("-p policy: mutating tools are refused and the file is untouched", async () => {
    const { agent } = agentFor(
      [{ calls: [{ name: "write_file", args: { path: "new.txt", content: "x" } }] }, { content: "refused" }],
      { permissions: { interactive: false } },
    );
    await collect(agent.run("write it"));
    const result = agent.messages[2]!;
    expect(result.role === "tool" && result.content).toMatch(/^Permission denied: write_file needs approval and k2 is running non-interactively.*--allow-tools or --yolo/);
    expect(() => readFileSync(path.join(repo.root, "new.txt"))).toThrow();
  });

  it("cancelling during a shell command kills it, records a cancelled result and ends the turn", async () => {
    const controller = new AbortController();
    const { agent } = agentFor([{ calls: [{ name: "run_shell", args: { command: "echo started; sleep 300" } }] }], { permissions: { mode: "yolo" } });
    const events = await collect(agent.run("go", controller.signal), (e) => {
      if (e.type === "tool_output" && e.chunk.includes("started")) controller.abort();
    });
    expect(events.at(-1)).toEqual({ type: "turn_end", reason: "cancelled" });
    const result = agent.messages.at(-1)!;
    expect(result.role === "tool" && result.content).toMatch(/^Command cancelled by the user/);
  });

  it("cancelling during generation ends the turn and runs no tools", async () => {
    const controller = new AbortController();
    const { agent } = agentFor([{ content: "thinking about it", hang: true }]);
    const events = await collect(agent.run("go", controller.signal), (e) => {
      if (e.type === "model" && e.event.type === "content") controller.abort();
    });
    expect(events.at(-1)).toEqual({ type: "turn_end", reason: "cancelled" });
    expect(agent.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
  });

  it("publishes the todo list and stops at maxSteps", async () => {
    const loop: ScriptStep = () => ({ calls: [{ name: "todo", args: { todos: [{ content: "step", status: "in_progress" }] } }] });
    const { agent } = agentFor([loop, loop, loop, loop], { maxSteps: 3 });
    const events = await collect(agent.run("go"));
    expect(events.filter((e) => e.type === "todos")).toHaveLength(3);
    expect(agent.todos).toEqual([{ content: "step", status: "in_progress" }]);
    expect(events.at(-1)).toEqual({ type: "turn_end", reason: "max_steps" });
  });

  it("/init: the model explores and writes AGENTS.md through write_file, which the next session's prompt includes", async () => {
    const { agent, model } = agentFor([
      { calls: [{ name: "list_dir", args: {} }, { name: "read_file", args: { path: "README.md" } }] },
      { calls: [{ name: "write_file", args: { path: "AGENTS.md", content: "# Agents\nBuild: none. Entry: src/app.ts\n" } }] },
      { content: "Wrote AGENTS.md." },
    ]);
    const events = await collect(agent.run(INIT_PROMPT), (e) => {
      if (e.type === "permission_request") agent.respondToPermission(e.request.id, "once");
    });
    expect(model.requests[0]!.messages[1]).toEqual({ role: "user", content: INIT_PROMPT });
    expect(events.some((e) => e.type === "permission_request" && e.request.tool === "write_file" && e.request.summary === "create AGENTS.md")).toBe(true);
    expect(readFileSync(path.join(repo.root, "AGENTS.md"), "utf8")).toBe("# Agents\nBuild: none. Entry: src/app.ts\n");
    expect(await buildSystemPrompt({ root: repo.root, cwd: repo.root })).toContain("# Project instructions from AGENTS.md\n# Agents\nBuild: none.");
  });

  it("counts a resumed transcript exactly before its first step and compacts it if it is over the threshold", async () => {
    const history = Array.from({ length: 40 }, (_, i) => [
      { role: "user" as const, content: `question ${i} ${"q".repeat(200)}` },
      { role: "assistant" as const, content: `answer ${i} ${"a".repeat(200)}` },
    ]).flat();
    const summarize: ScriptStep = { content: "SUMMARY of 40 exchanges" };
    const model = new ScriptedChatModel([summarize, { content: "continuing" }], 4000);
    const agent = new Agent({ model, cwd: repo.root, systemPrompt: "SYSTEM", history });
    const events = await collect(agent.run("next"));
    expect(events.some((e) => e.type === "compaction")).toBe(true);
    expect(model.requests[1]!.messages.length).toBeLessThan(history.length);
  });

  it("a consumer that stops iterating cancels the turn: the running command is killed and the agent is free again", async () => {
    const { agent } = agentFor([{ calls: [{ name: "run_shell", args: { command: "echo $$ > shell.pid; exec sleep 300" } }] }, { content: "second turn" }], {
      permissions: { mode: "yolo" },
    });
    for await (const e of agent.run("go")) {
      if (e.type === "tool_start") {
        for (let i = 0; i < 200 && !existsSync(path.join(repo.root, "shell.pid")); i++) await new Promise((r) => setTimeout(r, 10));
        break;
      }
    }
    const pid = Number(readFileSync(path.join(repo.root, "shell.pid"), "utf8"));
    let alive = true;
    for (let i = 0; i < 200 && alive; i++) {
      try {
        process.kill(pid, 0);
        await new Promise((r) => setTimeout(r, 10));
      } catch {
        alive = false;
      }
    }
    expect(alive).toBe(false);
    expect(agent.messages.at(-1)!.role).toBe("tool");
    const next = await collect(agent.run("again"));
    expect(next.at(-1)).toEqual({ type: "turn_end", reason: "done" });
  });

  it("writes outside the repository ask every time, even after 'always for this project'", async () => {
    const outside = path.join(path.dirname(repo.root), `${path.basename(repo.root)}-outside.txt`);
    const { agent } = agentFor([
      { calls: [{ name: "write_file", args: { path: outside, content: "1" } }] },
      { calls: [{ name: "write_file", args: { path: outside, content: "2" } }] },
      { content: "done" },
    ]);
    let asked = 0;
    try {
      await collect(agent.run("write outside"), (e) => {
        if (e.type === "permission_request") {
          asked++;
          agent.respondToPermission(e.request.id, "project");
        }
      });
      expect(asked).toBe(2);
      expect(readFileSync(outside, "utf8")).toBe("2");
      expect(existsSync(path.join(repo.root, ".k2/settings.json"))).toBe(false);
    } finally {
      rmSync(outside, { force: true });
    }
  });

  it("a session file that cannot be written ends the turn with an error event, not a crash", async () => {
    const { SessionWriter } = await import("../../src/agent/session/session_store.js");
    const session = SessionWriter.create(path.join(repo.root, "README.md", "not-a-dir"), { cwd: repo.root, model: { name: "m" }, sampling: {} });
    const { agent } = agentFor([{ content: "never asked" }], { session });
    const events = await collect(agent.run("hello"));
    expect(events.at(-2)).toMatchObject({ type: "error", recoverable: false, message: expect.stringMatching(/cannot open session file/) });
    expect(events.at(-1)).toEqual({ type: "turn_end", reason: "error" });
  });

  it("refuses a second concurrent run", async () => {
    const { agent } = agentFor([{ content: "a" }, { content: "b" }]);
    const first = agent.run("one")[Symbol.asyncIterator]();
    await first.next();
    await expect(agent.run("two").next()).rejects.toThrow(/already running/);
    while (!(await first.next()).done);
  });
});
