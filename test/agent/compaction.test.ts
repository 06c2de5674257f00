import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { makeTempRepo, type TempRepo } from "./temp_repo.js";
import { ScriptedChatModel, type ScriptStep } from "../helpers/scripted_chat_model.js";
import { Agent } from "../../src/agent/agent.js";
import type { AgentEvent } from "../../src/agent/events.js";
import { SUMMARY_PREFIX, chooseCut } from "../../src/agent/context/compaction.js";
import { SessionWriter, loadSessionFile } from "../../src/agent/session/session_store.js";
import type { ChatMessage } from "../../src/chat/messages.js";

let repo: TempRepo;
let dir: string;
beforeEach(() => {
  repo = makeTempRepo({ "big.txt": "y".repeat(3000) + "\n" });
  dir = mkdtempSync(path.join(os.tmpdir(), "k2-compact-"));
});
afterEach(() => {
  repo.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function collect(gen: AsyncIterable<AgentEvent>): Promise<AgentEvent[]> {
  const out: AgentEvent[] = [];
  for await (const e of gen) out.push(e);
  return out;
}

const summarizer: ScriptStep = (request) => {
  const user = request.messages[1]!;
  const text = user.role === "user" && typeof user.content === "string" ? user.content : "";
  return { content: `SUMMARY(${text.includes("Focus especially on: the tests") ? "focused" : "plain"}; had ${(text.match(/TOOL RESULT/g) ?? []).length} results)` };
};

describe("compaction", () => {
  it("never cuts between a tool call and its result", () => {
    const m: ChatMessage[] = [
      { role: "user", content: "u" },
      { role: "assistant", content: "", tool_calls: [{ id: "functions.a:0", type: "function", function: { name: "a", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "functions.a:0", name: "a", content: "r" },
      { role: "assistant", content: "done" },
    ];
    expect(chooseCut(m, [1, 1, 1, 1], 2)).toBe(3);
    expect(chooseCut(m, [1, 1, 1, 1], 3)).toBe(1); // keeps the call with its result
    expect(chooseCut(m, [1, 1, 100, 1], 50)).toBe(3);
  });

  it("compacts automatically past the threshold, keeps the current request, persists and reports it", async () => {
    // 1 token per 4 chars, window 2500: each 3 KB read result is ~570 tokens, so the 4th result crosses 85%.
    const read: ScriptStep = { calls: [{ name: "read_file", args: { path: "big.txt" } }] };
    const model = new ScriptedChatModel([read, read, read, read, summarizer, read, { content: "finished" }], 2500);
    const session = SessionWriter.create(dir, { cwd: repo.root, model: { name: "scripted" }, sampling: {} });
    const agent = new Agent({ model, cwd: repo.root, systemPrompt: "SYSTEM", session });
    const events = await collect(agent.run("read big.txt repeatedly"));

    const compaction = events.find((e) => e.type === "compaction");
    expect(compaction?.type === "compaction" && compaction.summary).toMatch(/^SUMMARY\(plain; had \d+ results\)$/);
    expect(compaction?.type === "compaction" && compaction.afterTokens).toBeLessThan(compaction?.type === "compaction" ? compaction.beforeTokens : 0);
    expect(compaction?.type === "compaction" && compaction.beforeTokens).toBeGreaterThanOrEqual(2500 * 0.85);
    expect(events.at(-1)).toEqual({ type: "turn_end", reason: "done" });

    const first = agent.messages[0]!;
    expect(first.role === "user" && typeof first.content === "string" && first.content.startsWith(SUMMARY_PREFIX)).toBe(true);
    expect(agent.messages[1]).toEqual({ role: "user", content: "read big.txt repeatedly" });
    // The request after compaction carried the summary, not the old results.
    const after = model.requests[5]!.messages;
    expect(after[1]!.role === "user" && (after[1]!.content as string).startsWith(SUMMARY_PREFIX)).toBe(true);
    expect(await model.countTokens(after)).toBeLessThan(2500 * 0.85);
    // The session replays to the compacted transcript.
    expect(loadSessionFile(session.file).messages).toEqual(agent.messages);
  });

  it("/compact with a focus runs on demand", async () => {
    const model = new ScriptedChatModel([{ content: "one" }, { content: "two" }, summarizer]);
    const agent = new Agent({ model, cwd: repo.root, systemPrompt: "SYSTEM" });
    await collect(agent.run("first"));
    await collect(agent.run("second"));
    const events = await collect(agent.compact("the tests"));
    const c = events.find((e) => e.type === "compaction");
    expect(c?.type === "compaction" && c.summary).toBe("SUMMARY(focused; had 0 results)");
    expect(agent.messages[0]!.role === "user" && (agent.messages[0]!.content as string)).toContain("SUMMARY(focused");
  });
});
