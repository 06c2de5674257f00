// A SessionDriver over an Agent that remembers the latest step telemetry, so /stats can report
// speed without the UI reaching into the engine.
import type { Agent } from "../../agent/agent.js";
import type { AgentEvent, PermissionDecision, PermissionMode } from "../../agent/events.js";
import type { GenerationStats } from "../../engine/types.js";
import type { SessionDriver } from "../../ui/session_driver.js";

export interface StepRecord {
  stats: GenerationStats;
  contextTokens: number;
  contextWindow: number;
}

export class RecordingDriver implements SessionDriver {
  last: StepRecord | undefined;
  totalGenerated = 0;
  steps = 0;

  constructor(readonly agent: Agent) {}

  get model() {
    return this.agent.model;
  }
  get messages() {
    return this.agent.messages;
  }
  get todos() {
    return this.agent.todos;
  }
  get contextTokens() {
    return this.agent.contextTokens;
  }
  get sessionId() {
    return this.agent.sessionId;
  }
  get mode(): PermissionMode {
    return this.agent.mode;
  }
  set mode(m: PermissionMode) {
    this.agent.mode = m;
  }
  cycleMode(): PermissionMode {
    return this.agent.cycleMode();
  }
  respondToPermission(id: string, decision: PermissionDecision): void {
    this.agent.respondToPermission(id, decision);
  }
  run(userText: string, signal?: AbortSignal): AsyncIterable<AgentEvent> {
    return this.tap(this.agent.run(userText, signal));
  }
  compact(focus?: string, signal?: AbortSignal): AsyncIterable<AgentEvent> {
    return this.tap(this.agent.compact(focus, signal));
  }

  private async *tap(events: AsyncIterable<AgentEvent>): AsyncGenerator<AgentEvent> {
    for await (const ev of events) {
      if (ev.type === "step_stats") {
        this.last = { stats: ev.stats, contextTokens: ev.contextTokens, contextWindow: ev.contextWindow };
        this.totalGenerated += ev.stats.generatedTokens;
        this.steps += 1;
      }
      yield ev;
    }
  }
}
