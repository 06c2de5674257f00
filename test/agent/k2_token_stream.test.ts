// End to end below the UI: scripted K2 token streams (as the model would emit them) go through the
// real tokenizer, chat template, output parser, LocalChatModel, agent loop, tools and permission
// logic against a temporary git repository.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import path from "node:path";
import { makeTempRepo, type TempRepo } from "./temp_repo.js";
import { loadChatTemplate } from "../../src/chat/chat_template.js";
import { loadTokenizer } from "../../src/chat/tokenizer.js";
import { LocalChatModel } from "../../src/chat/local_chat_model.js";
import { ScriptedEngineSession } from "../helpers/scripted_engine_session.js";
import { Agent } from "../../src/agent/agent.js";
import type { AgentEvent } from "../../src/agent/events.js";
import type { GenerationStats } from "../../src/engine/types.js";

const VOCAB = "../shared/vocab/kimi-k2";
const tok = loadTokenizer(VOCAB);
const template = loadChatTemplate(VOCAB);

function call(name: string, idx: number, args: unknown): string {
  return `<|tool_call_begin|>functions.${name}:${idx}<|tool_call_argument_begin|>${typeof args === "string" ? args : JSON.stringify(args)}<|tool_call_end|>`;
}
function toolTurn(reasoning: string, calls: string[]): number[] {
  return tok.encodeWithSpecials(`<think>${reasoning}</think><|tool_calls_section_begin|>${calls.join("")}<|tool_calls_section_end|><|im_end|>`);
}
function answer(reasoning: string, text: string): number[] {
  return tok.encodeWithSpecials(`<think>${reasoning}</think>${text}<|im_end|>`);
}

let repo: TempRepo;
beforeEach(() => {
  repo = makeTempRepo({ "src/config.ts": "export const retries = 1;\nexport const verbose = false;\n", "notes.txt": "a\nb\n" });
});
afterEach(() => repo.cleanup());

function setup(scripts: number[][], mode: "ask" | "yolo" = "ask") {
  const session = new ScriptedEngineSession(scripts);
  const model = new LocalChatModel({ name: "kimi-k2-scripted", contextWindow: 262_144, session, tokenizer: tok, template });
  const agent = new Agent({ model, cwd: repo.root, systemPrompt: "You are k2, a coding agent.", permissions: { mode }, sampling: { temperature: 0 } });
  return { session, agent };
}

async function drive(agent: Agent, text: string, answerPermission: (tool: string) => "once" | "deny" = () => "once"): Promise<AgentEvent[]> {
  const events: AgentEvent[] = [];
  for await (const e of agent.run(text)) {
    events.push(e);
    if (e.type === "permission_request") agent.respondToPermission(e.request.id, answerPermission(e.request.tool));
  }
  return events;
}

describe("agent over K2 token streams", () => {
  it("reasoning, parallel calls, a malformed call, an approved edit and a denied command", async () => {
    const { session, agent } = setup([
      toolTurn("I'll read the config and the notes together.", [call("read_file", 0, { path: "src/config.ts" }), call("read_file", 1, { path: "notes.txt" })]),
      toolTurn("Edit, and try a bad call.", [
        call("edit_file", 2, { path: "src/config.ts", old_string: "retries = 1", new_string: "retries = 5" }),
        call("grep", 3, '{"pattern": "verbose"'),
      ]),
      toolTurn("Run the tests.", [call("run_shell", 4, { command: "rm -rf src" })]),
      answer("Done.", "Set retries to 5. I did not run the command because it was denied."),
    ]);
    const events = await drive(agent, "Raise retries to 5", (tool) => (tool === "run_shell" ? "deny" : "once"));

    expect(readFileSync(path.join(repo.root, "src/config.ts"), "utf8")).toBe("export const retries = 5;\nexport const verbose = false;\n");
    expect(readFileSync(path.join(repo.root, "notes.txt"), "utf8")).toBe("a\nb\n"); // denied rm did not run
    const edit = events.find((e) => e.type === "tool_end" && e.name === "edit_file");
    expect(edit?.type === "tool_end" && edit.diff).toContain("-export const retries = 1;\n+export const retries = 5;");

    const transcript = agent.messages.map((m) => {
      if (m.role === "tool") return `tool ${m.tool_call_id}: ${m.content.split("\n")[0]}`;
      if (m.role === "assistant") return `assistant [${m.reasoning_content ?? ""}] ${m.content} ${(m.tool_calls ?? []).map((c) => c.id).join(",")}`.trim();
      return `${m.role}: ${typeof m.content === "string" ? m.content : ""}`;
    });
    expect(transcript).toEqual([
      "user: Raise retries to 5",
      "assistant [I'll read the config and the notes together.]  functions.read_file:0,functions.read_file:1",
      "tool functions.read_file:0: 1\texport const retries = 1;",
      "tool functions.read_file:1: 1\ta",
      "assistant [Edit, and try a bad call.]  functions.edit_file:2,functions.grep:3",
      "tool functions.edit_file:2: Edited src/config.ts (1 replacement).",
      "tool functions.grep:3: Error: the arguments of grep are not valid JSON (" + (agent.messages[6]!.role === "tool" ? agent.messages[6]!.content.split("(")[1]!.split("\n")[0] : ""),
      "assistant [Run the tests.]  functions.run_shell:4",
      "tool functions.run_shell:4: The user denied permission for this call. Do not retry it; ask the user how to proceed or choose another approach.",
      "assistant [Done.] Set retries to 5. I did not run the command because it was denied.",
    ]);
    expect(events.at(-1)).toEqual({ type: "turn_end", reason: "done" });

    // Every step after the first reused the whole previous prompt + generation from the KV cache.
    for (let i = 1; i < session.prompts.length; i++) {
      const prev = session.prompts[i - 1]!;
      const cachedBefore = prev.length + (session.calls[i - 1] ? generatedLength(events, i - 1) : 0);
      expect(session.prompts[i]!.slice(0, cachedBefore)).toEqual([...prev, ...session.prompts[i]!.slice(prev.length, cachedBefore)]);
      const stats = stepStats(events)[i]!;
      expect(stats.reusedTokens).toBe(cachedBefore);
      expect(stats.prefilledTokens).toBe(session.prompts[i]!.length - cachedBefore);
    }
  });

  it("a 300-call chain prefills only the new tokens at every step", async () => {
    const N = 300;
    for (let i = 0; i < N; i++) repo.write(`files/f${i}.txt`, `value ${i}\n`);
    const scripts: number[][] = [];
    for (let i = 0; i < N; i++) scripts.push(toolTurn(`Step ${i}: read the next file.`, [call("read_file", i, { path: `files/f${i}.txt` })]));
    scripts.push(answer("All read.", `Read ${N} files.`));
    const { session, agent } = setup(scripts);
    const events = await drive(agent, `Read files/f0.txt through files/f${N - 1}.txt one at a time.`);

    expect(events.at(-1)).toEqual({ type: "turn_end", reason: "done" });
    const results = agent.messages.filter((m) => m.role === "tool");
    expect(results).toHaveLength(N);
    expect(results.map((m) => (m.role === "tool" ? m.tool_call_id : ""))).toEqual(Array.from({ length: N }, (_, i) => `functions.read_file:${i}`));
    expect(results.every((m, i) => m.role === "tool" && m.content === `1\tvalue ${i}`)).toBe(true);

    const stats = stepStats(events);
    expect(stats).toHaveLength(N + 1);
    let maxPrefill = 0;
    for (let i = 1; i <= N; i++) {
      const cached = session.prompts[i - 1]!.length + stats[i - 1]!.generatedTokens;
      expect(stats[i]!.reusedTokens).toBe(cached);
      // New tokens per step: the tool result message plus the next generation prompt only.
      expect(stats[i]!.prefilledTokens).toBe(session.prompts[i]!.length - cached);
      maxPrefill = Math.max(maxPrefill, stats[i]!.prefilledTokens);
    }
    // Constant work per step, however long the conversation grew.
    expect(maxPrefill).toBeLessThan(40);
    expect(session.prompts[N]!.length).toBeGreaterThan(N * 40);
  });
});

function stepStats(events: AgentEvent[]): GenerationStats[] {
  return events.flatMap((e) => (e.type === "step_stats" ? [e.stats] : []));
}
function generatedLength(events: AgentEvent[], step: number): number {
  return stepStats(events)[step]!.generatedTokens;
}
