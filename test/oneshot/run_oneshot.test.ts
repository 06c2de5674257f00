import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { AgentEvent } from "../../src/agent/events.js";
import { composePrompt, runOneShot, type OutputFormat } from "../../src/oneshot/run_oneshot.js";

const stats = { promptTokens: 100, reusedTokens: 0, prefilledTokens: 100, generatedTokens: 10, prefillMs: 500, decodeMs: 1000, timeToFirstTokenMs: 520, prefillTokPerS: 200, decodeTokPerS: 10, finishReason: "stop" as const };

const TURN: AgentEvent[] = [
  { type: "turn_start", turn: 1 },
  { type: "model", step: 0, event: { type: "reasoning", text: "thinking hard" } },
  { type: "model", step: 0, event: { type: "content", text: "Checking." } },
  { type: "model", step: 0, event: { type: "end", reason: "tool_calls" } },
  { type: "step_stats", step: 0, stats, contextTokens: 110, contextWindow: 4096 },
  { type: "tool_start", callId: "functions.read_file:0", name: "read_file", args: { path: "a.ts" }, summary: "a.ts" },
  { type: "tool_end", callId: "functions.read_file:0", name: "read_file", ok: true, result: "const a = 1;", durationMs: 3 },
  { type: "model", step: 1, event: { type: "content", text: "The answer " } },
  { type: "model", step: 1, event: { type: "content", text: "is 42." } },
  { type: "model", step: 1, event: { type: "end", reason: "stop" } },
  { type: "step_stats", step: 1, stats, contextTokens: 140, contextWindow: 4096 },
  { type: "turn_end", reason: "done" },
];

function driver(events: AgentEvent[], prompts: string[] = []) {
  return {
    model: { name: "fake" },
    async *run(text: string, signal?: AbortSignal) {
      prompts.push(text);
      for (const ev of events) {
        if (signal?.aborted) {
          yield { type: "turn_end", reason: "cancelled" } as AgentEvent;
          return;
        }
        yield ev;
      }
    },
  };
}

function capture() {
  const s = new PassThrough();
  let text = "";
  s.on("data", (d) => (text += d.toString()));
  return { stream: s, text: () => text };
}

async function run(format: OutputFormat, showThinking: boolean, events = TURN, signal?: AbortSignal) {
  const out = capture();
  const err = capture();
  const r = await runOneShot(driver(events), "q", { format, showThinking, stdout: out.stream, stderr: err.stream, signal });
  return { ...r, out: out.text(), err: err.text() };
}

describe("runOneShot", () => {
  it("text: the answer on stdout, nothing on stderr without --show-thinking", async () => {
    const r = await run("text", false);
    expect(r.out).toBe("Checking.\n\nThe answer is 42.\n");
    expect(r.err).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.out).not.toMatch(/\u001b\[/);
  });

  it("text --show-thinking: reasoning and tool progress on stderr only", async () => {
    const r = await run("text", true);
    expect(r.out).toBe("Checking.\n\nThe answer is 42.\n");
    expect(r.err).toContain("thinking hard");
    expect(r.err).toContain("→ read_file a.ts");
    expect(r.err).toMatch(/decode 10\.0 tok\/s/);
    expect(r.err).not.toMatch(/\u001b\[/); // stderr is not a TTY here
  });

  it("json: one object with answer, reasoning, tool calls and stats", async () => {
    const r = await run("json", false);
    const obj = JSON.parse(r.out);
    expect(obj.answer).toBe("The answer is 42.");
    expect(obj.reasoning).toBe("thinking hard");
    expect(obj.toolCalls).toEqual([{ id: "functions.read_file:0", name: "read_file", arguments: { path: "a.ts" }, ok: true, result: "const a = 1;", durationMs: 3 }]);
    expect(obj.stats).toMatchObject({ steps: 2, promptTokens: 200, generatedTokens: 20, contextTokens: 140, contextWindow: 4096, timeToFirstTokenMs: 520 });
    expect(obj.stats.decodeTokPerS).toBeCloseTo(10);
    expect(obj.finishReason).toBe("done");
  });

  it("stream-json: one parseable event per line", async () => {
    const r = await run("stream-json", false);
    const lines = r.out.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(TURN.map((e) => e.type));
  });

  it("exit codes: 1 when the turn fails (error on stderr), 130 when interrupted", async () => {
    const failed = await run("json", false, [
      { type: "turn_start", turn: 1 },
      { type: "error", message: "engine exploded", recoverable: false },
      { type: "turn_end", reason: "error" },
    ]);
    expect(failed.exitCode).toBe(1);
    expect(failed.err).toBe("k2: engine exploded\n");
    const controller = new AbortController();
    controller.abort();
    const cancelled = await run("text", false, TURN, controller.signal);
    expect(cancelled.exitCode).toBe(130);
  });

  it("piped stdin is context and -p the instruction; either alone is the prompt", () => {
    expect(composePrompt("review this", "diff --git a b\n")).toBe("review this\n\n<stdin>\ndiff --git a b\n</stdin>");
    expect(composePrompt(undefined, "what is 2+2?\n")).toBe("what is 2+2?");
    expect(composePrompt("hi", "")).toBe("hi");
    expect(composePrompt("", "  ")).toBe("");
  });
});
