// A scripted SessionDriver for TUI tests: each run() replays the next list of AgentEvents. A
// `gate` entry pauses the stream until the test calls release(), so frames can be asserted
// mid-stream; aborting the signal ends the turn with turn_end "cancelled" like the real agent.
import type { AgentEvent, PermissionDecision, PermissionMode, TodoItem } from "../../src/agent/events.js";
import type { ChatMessage } from "../../src/chat/messages.js";
import type { GenerationStats } from "../../src/engine/types.js";
import type { AppServices, SessionDriver } from "../../src/ui/session_driver.js";

export type ScriptEntry = AgentEvent | { gate: string };

export class FakeDriver implements SessionDriver {
  readonly model = { name: "fake-k2", contextWindow: 4096 };
  readonly messages: ChatMessage[] = [];
  readonly todos: TodoItem[] = [];
  readonly contextTokens = 0;
  readonly sessionId = "fake-session";
  mode: PermissionMode = "ask";
  readonly prompts: string[] = [];
  readonly permissionAnswers: [string, PermissionDecision][] = [];
  aborted = false;
  private readonly gates = new Map<string, () => void>();
  private readonly waiting = new Map<string, Promise<void>>();

  constructor(private readonly scripts: ScriptEntry[][]) {}

  release(gate: string): void {
    this.gates.get(gate)?.();
  }

  cycleMode(): PermissionMode {
    const order: PermissionMode[] = ["ask", "auto-edit", "yolo"];
    this.mode = order[(order.indexOf(this.mode) + 1) % order.length]!;
    return this.mode;
  }

  respondToPermission(id: string, decision: PermissionDecision): void {
    this.permissionAnswers.push([id, decision]);
    this.release(`permission:${id}`);
  }

  run(userText: string, signal?: AbortSignal): AsyncIterable<AgentEvent> {
    this.prompts.push(userText);
    this.messages.push({ role: "user", content: userText });
    return this.replay(this.scripts.shift() ?? [], signal);
  }

  compact(_focus?: string, signal?: AbortSignal): AsyncIterable<AgentEvent> {
    return this.replay([{ type: "compaction", beforeTokens: 3000, afterTokens: 800, durationMs: 1500, summary: "s" }, { type: "turn_end", reason: "done" }], signal);
  }

  private async *replay(script: ScriptEntry[], signal?: AbortSignal): AsyncGenerator<AgentEvent> {
    for (const entry of script) {
      if (signal?.aborted) break;
      if ("gate" in entry) {
        const opened = new Promise<void>((resolve) => {
          this.gates.set(entry.gate, resolve);
          signal?.addEventListener("abort", () => resolve(), { once: true });
        });
        this.waiting.set(entry.gate, opened);
        await opened;
        continue;
      }
      yield entry;
      await new Promise((r) => setImmediate(r));
    }
    if (signal?.aborted) {
      this.aborted = true;
      yield { type: "turn_end", reason: "cancelled" };
    }
  }
}

export function stats(over: Partial<GenerationStats> = {}): GenerationStats {
  return {
    promptTokens: 1200,
    reusedTokens: 0,
    prefilledTokens: 1200,
    generatedTokens: 50,
    prefillMs: 2000,
    decodeMs: 2000,
    timeToFirstTokenMs: 2100,
    prefillTokPerS: 600,
    decodeTokPerS: 25,
    finishReason: "stop",
    ...over,
  };
}

export function fakeServices(over: Partial<AppServices> = {}): AppServices {
  return {
    listSessions: () => [],
    resumeSession: () => {
      throw new Error("no sessions");
    },
    newSession: () => new FakeDriver([]),
    saveTranscript: () => "/tmp/saved.md",
    describeSettings: () => ["temperature = 1 (default)"],
    setSetting: (k, v) => `${k} = ${v}`,
    engineStats: () => ["engine: fake"],
    describeModel: () => ["model: fake-k2"],
    ...over,
  };
}

/** Waits (polling) until `check` passes; fails with the last frame if it never does. */
export async function until(check: () => boolean, describe: () => string, tries = 400): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`condition never held; last frame:\n${describe()}`);
}
