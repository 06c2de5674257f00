// What a one-shot turn produced, gathered from AgentEvents: the `--output-format json` object and
// the exit code of every format.
import type { AgentEvent } from "../agent/events.js";
import type { ExpertTelemetry, GenerationStats } from "../engine/types.js";

export interface OneShotToolCall {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
  ok?: boolean;
  result?: string;
  durationMs?: number;
}

export interface OneShotStats {
  steps: number;
  promptTokens: number;
  generatedTokens: number;
  prefillTokPerS: number;
  decodeTokPerS: number;
  timeToFirstTokenMs: number;
  contextTokens: number;
  contextWindow: number;
  expertHitRate?: number;
  /** Expert cache over all steps (when experts stream from disk): counters summed, rates over the sums. */
  experts?: ExpertTelemetry;
}

export interface OneShotResult {
  model: string;
  answer: string;
  reasoning: string;
  toolCalls: OneShotToolCall[];
  stats: OneShotStats;
  finishReason: "done" | "cancelled" | "error" | "max_steps" | "incomplete";
  errors: string[];
}

export class OneShotCollector {
  private readonly result: OneShotResult;
  private prefillMs = 0;
  private prefilled = 0;
  private decodeMs = 0;
  private decoded = 0;
  /** Content of the latest model step: the answer is what the model said last, after its tools. */
  private stepContent = new Map<number, string>();

  constructor(model: string) {
    this.result = {
      model,
      answer: "",
      reasoning: "",
      toolCalls: [],
      stats: { steps: 0, promptTokens: 0, generatedTokens: 0, prefillTokPerS: 0, decodeTokPerS: 0, timeToFirstTokenMs: 0, contextTokens: 0, contextWindow: 0 },
      finishReason: "incomplete",
      errors: [],
    };
  }

  add(ev: AgentEvent): void {
    const r = this.result;
    switch (ev.type) {
      case "model":
        if (ev.event.type === "content") this.stepContent.set(ev.step, (this.stepContent.get(ev.step) ?? "") + ev.event.text);
        else if (ev.event.type === "reasoning") r.reasoning += ev.event.text;
        return;
      case "tool_start":
        r.toolCalls.push({ id: ev.callId, name: ev.name, arguments: ev.args });
        return;
      case "tool_end": {
        const call = r.toolCalls.find((c) => c.id === ev.callId);
        if (call !== undefined) Object.assign(call, { ok: ev.ok, result: ev.result, durationMs: ev.durationMs });
        return;
      }
      case "step_stats":
        this.addStats(ev.stats, ev.contextTokens, ev.contextWindow);
        return;
      case "error":
        r.errors.push(ev.message);
        return;
      case "turn_end":
        r.finishReason = ev.reason;
        return;
      default:
        return;
    }
  }

  private addStats(s: GenerationStats, contextTokens: number, contextWindow: number): void {
    const st = this.result.stats;
    if (st.steps === 0) st.timeToFirstTokenMs = s.timeToFirstTokenMs;
    st.steps += 1;
    st.promptTokens += s.promptTokens;
    st.generatedTokens += s.generatedTokens;
    this.prefillMs += s.prefillMs;
    this.prefilled += s.prefilledTokens;
    this.decodeMs += s.decodeMs;
    this.decoded += s.generatedTokens;
    st.prefillTokPerS = this.prefillMs > 0 ? (1000 * this.prefilled) / this.prefillMs : 0;
    st.decodeTokPerS = this.decodeMs > 0 ? (1000 * this.decoded) / this.decodeMs : 0;
    st.contextTokens = contextTokens;
    st.contextWindow = contextWindow;
    if (s.experts !== undefined) {
      st.experts = addExpertTelemetry(st.experts, s.experts);
      st.expertHitRate = st.experts.hitRate;
    }
  }

  finish(): OneShotResult {
    const steps = [...this.stepContent.keys()].sort((a, b) => a - b);
    const last = steps[steps.length - 1];
    this.result.answer = last !== undefined ? (this.stepContent.get(last) ?? "").trim() : "";
    return this.result;
  }
}

/** Running total of steps' expert telemetry; resident bytes and prefetch precision are the latest step's. */
function addExpertTelemetry(acc: ExpertTelemetry | undefined, x: ExpertTelemetry): ExpertTelemetry {
  if (acc === undefined) return { ...x };
  const hits = acc.hits + x.hits;
  const misses = acc.misses + x.misses;
  const bytesRead = acc.bytesRead + x.bytesRead;
  // Read seconds of each step, recovered from its bytes and rate, so the total rate is bytes / time.
  const seconds = (acc.readGBps > 0 ? acc.bytesRead / (acc.readGBps * 1e9) : 0) + (x.readGBps > 0 ? x.bytesRead / (x.readGBps * 1e9) : 0);
  return {
    hits,
    misses,
    hitRate: hits + misses > 0 ? hits / (hits + misses) : 1,
    bytesRead,
    readGBps: seconds > 0 ? bytesRead / seconds / 1e9 : 0,
    stallMs: acc.stallMs + x.stallMs,
    prefetchPrecision: x.prefetchPrecision,
    residentBytes: x.residentBytes,
  };
}

/** 0 ok, 1 runtime error, 130 interrupted. */
export function exitCodeFor(result: OneShotResult): number {
  if (result.finishReason === "cancelled") return 130;
  if (result.finishReason === "error" || result.finishReason === "incomplete") return 1;
  return 0;
}
