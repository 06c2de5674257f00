import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render } from "ink-testing-library";
import { ChatApp } from "../../src/ui/App.js";
import { ansiStyle, stripAnsi } from "../../src/ui/ansi_style.js";
import { InputHistory } from "../../src/ui/input_history.js";
import { FakeDriver, fakeServices, stats, until, type ScriptEntry } from "./fake_driver.js";

afterEach(() => cleanup());

const ENTER = "\r";
const ESC = "\u001b";

function mount(driver: FakeDriver, extra: Partial<Parameters<typeof ChatApp>[0]> = {}) {
  const app = render(
    <ChatApp driver={driver} services={fakeServices()} history={new InputHistory(null)} style={ansiStyle(false)} cwd="/work/project" branch="main" showThinking={false} {...extra} />,
  );
  const frame = () => stripAnsi(app.lastFrame() ?? "");
  return { app, frame };
}

async function type(app: ReturnType<typeof render>, text: string) {
  for (const ch of text) {
    app.stdin.write(ch);
    await new Promise((r) => setImmediate(r));
  }
}

const model = (step: number, event: object) => ({ type: "model", step, event }) as ScriptEntry;

describe("ChatApp", () => {
  it("streams the answer into the live area, then prints it once as history", async () => {
    const driver = new FakeDriver([
      [
        { type: "turn_start", turn: 1 },
        model(0, { type: "content", text: "Hello " }),
        model(0, { type: "content", text: "from **K2**" }),
        { gate: "mid" },
        model(0, { type: "content", text: " — done." }),
        model(0, { type: "end", reason: "stop" }),
        { type: "step_stats", step: 0, stats: stats(), contextTokens: 1250, contextWindow: 4096 },
        { type: "turn_end", reason: "done" },
      ],
    ]);
    const { app, frame } = mount(driver);
    await type(app, "hi there");
    app.stdin.write(ENTER);
    await until(() => frame().includes("Hello from K2"), frame);
    expect(frame()).toContain("› hi there");
    expect(frame()).toContain("esc to cancel");
    expect(frame()).not.toContain("done.");
    driver.release("mid");
    await until(() => frame().includes("Hello from K2 — done."), frame);
    await until(() => !frame().includes("esc to cancel"), frame);
    expect(driver.prompts).toEqual(["hi there"]);
    // Exactly one copy of the finished answer on screen.
    expect(frame().split("Hello from K2 — done.").length).toBe(2);
  });

  it("streams reasoning dimmed, collapses it when the answer starts, and Ctrl+O shows it again", async () => {
    const driver = new FakeDriver([
      [
        { type: "turn_start", turn: 1 },
        model(0, { type: "reasoning", text: "The user wants " }),
        model(0, { type: "reasoning", text: "a greeting." }),
        { gate: "thinking" },
        model(0, { type: "content", text: "Hi!" }),
        model(0, { type: "end", reason: "stop" }),
        { type: "turn_end", reason: "done" },
      ],
    ]);
    const { app, frame } = mount(driver);
    await type(app, "greet me");
    app.stdin.write(ENTER);
    await until(() => frame().includes("The user wants a greeting."), frame);
    expect(frame()).toMatch(/thinking… [\d.]+ s · 2 tokens/);
    driver.release("thinking");
    await until(() => frame().includes("Hi!") && !frame().includes("esc to cancel"), frame);
    expect(frame()).toMatch(/✻ thought for [\d.]+ s · 2 tokens \(ctrl\+o to expand\)/);
    expect(frame()).not.toContain("The user wants a greeting.");
    app.stdin.write("\u000f"); // Ctrl+O
    await until(() => frame().includes("The user wants a greeting."), frame);
    expect(frame()).toContain("reasoning:");
  });

  it("shows tool cards with live status, a result preview and a coloured diff for edits", async () => {
    const diff = ["--- a/src/app.ts", "+++ b/src/app.ts", "@@ -1,2 +1,2 @@", " const a = 1;", "-const b = 2;", "+const b = 3;"].join("\n");
    const driver = new FakeDriver([
      [
        { type: "turn_start", turn: 1 },
        model(0, { type: "content", text: "Let me look." }),
        model(0, { type: "end", reason: "tool_calls" }),
        { type: "tool_start", callId: "c1", name: "run_shell", args: { command: "npm test" }, summary: "npm test" },
        { type: "tool_output", callId: "c1", chunk: "running 3 tests\n" },
        { gate: "shell" },
        { type: "tool_end", callId: "c1", name: "run_shell", ok: true, result: "3 passed\nall good", durationMs: 1500 },
        { type: "tool_start", callId: "c2", name: "edit_file", args: { path: "src/app.ts" }, summary: "src/app.ts" },
        { type: "tool_end", callId: "c2", name: "edit_file", ok: true, result: "edited", diff, durationMs: 12 },
        { type: "tool_start", callId: "c3", name: "read_file", args: { path: "missing.ts" }, summary: "" },
        { type: "tool_end", callId: "c3", name: "read_file", ok: false, result: "missing.ts: no such file", durationMs: 3 },
        { type: "turn_end", reason: "done" },
      ],
    ]);
    const { app, frame } = mount(driver);
    await type(app, "fix it");
    app.stdin.write(ENTER);
    // tool_start and tool_output may land in different 50 ms flushes: wait for both.
    await until(() => frame().includes("running…") && frame().includes("running 3 tests"), frame);
    expect(frame()).toContain("◌ run_shell npm test");
    driver.release("shell");
    await until(() => !frame().includes("esc to cancel"), frame);
    const f = frame();
    expect(f).toMatch(/● run_shell npm test\s+✓ 1\.5 s/);
    expect(f).toContain("⎿ 3 passed");
    expect(f).toMatch(/● edit_file src\/app\.ts\s+✓/);
    expect(f).toContain("+1 -1");
    expect(f).toContain("-const b = 2;");
    expect(f).toContain("+const b = 3;");
    expect(f).toMatch(/● read_file missing\.ts\s+✗ failed/);
    // The shell card prints before the edit card (order kept when items settle).
    expect(f.indexOf("run_shell")).toBeLessThan(f.indexOf("edit_file"));
  });

  it("colours diff lines (green additions, red removals)", async () => {
    const driver = new FakeDriver([
      [
        { type: "turn_start", turn: 1 },
        { type: "tool_start", callId: "c2", name: "edit_file", args: { path: "a.ts" }, summary: "a.ts" },
        { type: "tool_end", callId: "c2", name: "edit_file", ok: true, result: "edited", diff: "@@ -1 +1 @@\n-old\n+new", durationMs: 1 },
        { type: "turn_end", reason: "done" },
      ],
    ]);
    const app = render(<ChatApp driver={driver} services={fakeServices()} history={new InputHistory(null)} style={ansiStyle(true)} cwd="/w" branch={null} showThinking={false} />);
    await type(app, "x");
    app.stdin.write(ENTER);
    await until(() => (app.lastFrame() ?? "").includes("new"), () => app.lastFrame() ?? "");
    expect(app.lastFrame()).toContain("\u001b[32m+new\u001b[39m");
    expect(app.lastFrame()).toContain("\u001b[31m-old\u001b[39m");
  });

  it("status line: model, context, prefill/decode speed, TTFT, expert cache, mode, cwd and branch", async () => {
    const experts = { hits: 90, misses: 10, hitRate: 0.9, bytesRead: 1e9, readGBps: 2, stallMs: 10, prefetchPrecision: 0.8, residentBytes: 12e9 };
    const driver = new FakeDriver([
      [
        { type: "turn_start", turn: 1 },
        model(0, { type: "content", text: "ok" }),
        model(0, { type: "end", reason: "stop" }),
        { type: "step_stats", step: 0, stats: stats({ experts }), contextTokens: 1250, contextWindow: 4096 },
        { type: "turn_end", reason: "done" },
      ],
    ]);
    const { app, frame } = mount(driver);
    expect(frame()).toContain("fake-k2 │ ctx 0/4.1k (0%) │ mode: ask │ /work/project (main)");
    await type(app, "q");
    app.stdin.write(ENTER);
    await until(() => frame().includes("decode"), frame);
    const lines = frame().split("\n");
    const at = lines.findIndex((l) => l.startsWith("fake-k2"));
    const status = lines.slice(at).join("\n");
    expect(status).toContain("ctx 1.3k/4.1k (31%)");
    expect(status).toContain("prefill 600 tok/s · decode 25.0 tok/s");
    expect(status).toContain("TTFT 2.1 s");
    // Packed into the 100-column test terminal without truncation.
    for (const line of status.split("\n")) expect(line.length).toBeLessThanOrEqual(100);
    expect(status).toContain("experts 90% hit · 12.0 GB");
    expect(status).toContain("mode: ask");
    expect(status).toContain("/work/project (main)");
    app.stdin.write("\u001b[Z"); // Shift+Tab
    await until(() => frame().includes("mode: auto-edit"), frame);
    expect(driver.mode).toBe("auto-edit");
  });

  it("shows the agent's todo list while items are open", async () => {
    const driver = new FakeDriver([
      [
        { type: "turn_start", turn: 1 },
        { type: "todos", items: [{ content: "read the code", status: "completed" }, { content: "write the fix", status: "in_progress" }, { content: "run tests", status: "pending" }] },
        { gate: "plan" },
        { type: "todos", items: [{ content: "read the code", status: "completed" }, { content: "write the fix", status: "completed" }, { content: "run tests", status: "completed" }] },
        { type: "turn_end", reason: "done" },
      ],
    ]);
    const { app, frame } = mount(driver);
    await type(app, "plan it");
    app.stdin.write(ENTER);
    await until(() => frame().includes("◐ write the fix"), frame);
    expect(frame()).toContain("☑ read the code");
    expect(frame()).toContain("☐ run tests");
    driver.release("plan");
    await until(() => !frame().includes("run tests"), frame);
  });

  it("shows the slash palette while typing / and filters it", async () => {
    const driver = new FakeDriver([]);
    const { app, frame } = mount(driver);
    await type(app, "/");
    await until(() => frame().includes("/help"), frame);
    for (const name of ["help", "clear", "model", "stats", "think", "save", "resume", "compact", "config", "init", "exit"]) expect(frame()).toContain(`/${name}`);
    expect(frame()).toContain("show or hide the model's reasoning");
    await type(app, "co");
    await until(() => !frame().includes("/help"), frame);
    expect(frame()).toContain("/compact");
    expect(frame()).toContain("/config");
    expect(frame()).not.toContain("/exit");
  });

  it("runs a slash command from the palette (Enter on /st runs /stats)", async () => {
    const driver = new FakeDriver([]);
    const { app, frame } = mount(driver);
    await type(app, "/st");
    app.stdin.write(ENTER);
    await until(() => frame().includes("engine: fake"), frame);
    expect(driver.prompts).toEqual([]);
  });

  it("/think, /save, /resume and /clear use the app services", async () => {
    const fresh = new FakeDriver([[{ type: "turn_start", turn: 1 }, { type: "turn_end", reason: "done" }]]);
    const saved: string[] = [];
    const services = fakeServices({
      newSession: () => fresh,
      saveTranscript: (_d, file) => {
        saved.push(file ?? "(default)");
        return `/w/${file ?? "k2-conversation.md"}`;
      },
      listSessions: () => [{ id: "20260101-000000-abc123", title: "fix the parser", updatedAt: new Date("2026-01-01T00:00:00Z"), messageCount: 4 }],
    });
    const driver = new FakeDriver([]);
    const app = render(<ChatApp driver={driver} services={services} history={new InputHistory(null)} style={ansiStyle(false)} cwd="/w" branch={null} showThinking={false} />);
    const frame = () => stripAnsi(app.lastFrame() ?? "");
    await type(app, "/think");
    app.stdin.write(ENTER);
    await until(() => frame().includes("reasoning: shown in full"), frame);
    await type(app, "/save notes.md");
    app.stdin.write(ENTER);
    await until(() => frame().includes("saved the conversation to /w/notes.md"), frame);
    expect(saved).toEqual(["notes.md"]);
    await type(app, "/resume");
    app.stdin.write(ENTER);
    await until(() => frame().includes("fix the parser"), frame);
    expect(frame()).toContain("20260101-000000-abc123");
    await type(app, "/clear");
    app.stdin.write(ENTER);
    await type(app, "after clear");
    app.stdin.write(ENTER);
    // The next turn goes to the new conversation, not the old one.
    await until(() => fresh.prompts.length === 1, frame);
    expect(fresh.prompts).toEqual(["after clear"]);
    expect(driver.prompts).toEqual([]);
    await type(app, "/nope");
    app.stdin.write(ENTER);
    await until(() => frame().includes("unknown command /nope"), frame);
  });

  it("Esc cancels the running turn", async () => {
    const driver = new FakeDriver([
      [{ type: "turn_start", turn: 1 }, model(0, { type: "content", text: "partial answer" }), { gate: "never" }, model(0, { type: "content", text: "NOT SHOWN" })],
    ]);
    const { app, frame } = mount(driver);
    await type(app, "go");
    app.stdin.write(ENTER);
    await until(() => frame().includes("partial answer"), frame);
    app.stdin.write(ESC);
    await until(() => frame().includes("cancelled"), frame);
    expect(driver.aborted).toBe(true);
    expect(frame()).not.toContain("NOT SHOWN");
    expect(frame()).not.toContain("esc to cancel");
  });

  it("permission prompt: choices, and pressing 2 answers 'session'", async () => {
    const driver = new FakeDriver([
      [
        { type: "turn_start", turn: 1 },
        { type: "permission_request", request: { id: "p1", tool: "run_shell", summary: "rm -rf build", suggestedRule: "run_shell(rm:*)" } },
        { gate: "permission:p1" },
        { type: "turn_end", reason: "done" },
      ],
    ]);
    const { app, frame } = mount(driver);
    await type(app, "clean");
    app.stdin.write(ENTER);
    await until(() => frame().includes("Allow run_shell?"), frame);
    expect(frame()).toContain("rm -rf build");
    expect(frame()).toContain("1. Yes, this once");
    expect(frame()).toContain("2. Yes, and allow run_shell(rm:*) for this session");
    expect(frame()).toContain("3. Yes, and always allow run_shell(rm:*) in this project");
    expect(frame()).toContain("4. No");
    app.stdin.write("2");
    await until(() => !frame().includes("Allow run_shell?"), frame);
    expect(driver.permissionAnswers).toEqual([["p1", "session"]]);
  });

  it("multi-line input: Ctrl+J and backslash-Enter add newlines; Enter sends", async () => {
    const driver = new FakeDriver([[{ type: "turn_start", turn: 1 }, { type: "turn_end", reason: "done" }]]);
    const { app, frame } = mount(driver);
    await type(app, "line one");
    app.stdin.write("\n"); // Ctrl+J
    await type(app, "line two\\");
    app.stdin.write(ENTER);
    await type(app, "three");
    await until(() => frame().includes("three"), frame);
    expect(driver.prompts).toEqual([]);
    app.stdin.write(ENTER);
    await until(() => driver.prompts.length === 1, frame);
    expect(driver.prompts[0]).toBe("line one\nline two\nthree");
  });

  it("bracketed paste keeps newlines instead of submitting", async () => {
    const driver = new FakeDriver([[{ type: "turn_start", turn: 1 }, { type: "turn_end", reason: "done" }]]);
    const { app, frame } = mount(driver);
    app.stdin.write("\u001b[200~first pasted line\rsecond pasted line\u001b[201~");
    await until(() => frame().includes("second pasted line"), frame);
    expect(driver.prompts).toEqual([]);
    app.stdin.write(ENTER);
    await until(() => driver.prompts.length === 1, frame);
    expect(driver.prompts[0]).toBe("first pasted line\nsecond pasted line");
  });

  it("history: Up recalls the previous prompt", async () => {
    const history = new InputHistory(null);
    history.add("earlier question");
    const driver = new FakeDriver([]);
    const { app, frame } = mount(driver, { history });
    app.stdin.write("\u001b[A");
    await until(() => frame().includes("› earlier question"), frame);
  });

  it("Ctrl+C clears the input first, then asks for a second press before exiting", async () => {
    let exited = false;
    const driver = new FakeDriver([]);
    const { app, frame } = mount(driver, { onExit: () => (exited = true) });
    await type(app, "draft");
    app.stdin.write("\u0003");
    await until(() => !frame().includes("draft"), frame);
    app.stdin.write("\u0003");
    await until(() => frame().includes("press Ctrl+C again to exit"), frame);
    expect(exited).toBe(false);
    app.stdin.write("\u0003");
    await until(() => exited, frame);
  });

  it("Ctrl+D during a turn cancels it and exits once the turn has unwound", async () => {
    let exited = false;
    const driver = new FakeDriver([[{ type: "turn_start", turn: 1 }, model(0, { type: "content", text: "streaming" }), { gate: "never" }]]);
    const { app, frame } = mount(driver, { onExit: () => (exited = true) });
    await type(app, "go");
    app.stdin.write(ENTER);
    await until(() => frame().includes("streaming"), frame);
    app.stdin.write("\u0004");
    await until(() => exited, frame);
    expect(driver.aborted).toBe(true);
  });

  it("live turn stays shorter than the terminal: long streams show only their tail", async () => {
    const long = Array.from({ length: 200 }, (_, i) => `line ${i}`).join("\n\n");
    const driver = new FakeDriver([[{ type: "turn_start", turn: 1 }, model(0, { type: "content", text: long }), { gate: "hold" }, model(0, { type: "end", reason: "stop" }), { type: "turn_end", reason: "done" }]]);
    const { app, frame } = mount(driver);
    await type(app, "long");
    app.stdin.write(ENTER);
    await until(() => frame().includes("line 199"), frame);
    const rows = frame().split("\n").length;
    expect(rows).toBeLessThanOrEqual(24 + 2); // 24-row default terminal; history above is only "› long"
    expect(frame()).toContain("lines above");
    expect(frame()).not.toContain("line 0\n");
    driver.release("hold");
    await until(() => frame().includes("line 0"), frame);
  });
});
