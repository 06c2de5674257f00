// Agent loop cost on a 300-step scripted tool chain (one read_file call per step), driven through
// the real K2 tokenizer, chat template, output parser and LocalChatModel over a scripted engine
// session that replays K2 token streams (so engine time is ~0 and everything measured is ours).
// Reports:
//  - agent overhead per tool step, excluding model time (time inside ChatModel.stream, which
//    includes rendering and tokenizing the prompt), early steps vs late steps;
//  - prompt preparation (render + tokenize) per step, early vs late, against the baseline of
//    rendering the checkpoint's Jinja template and encoding the whole conversation at the last
//    step (what every step cost before prompts were encoded message by message);
//  - tokens prefilled per step with prefix reuse (the engine's count) vs without (the whole
//    prompt each step), and their ratio.
// Run: `npm run bench` (through bench/run.ts), or `node dist/bench/agent_bench.js` alone.
import { mkdtempSync, realpathSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { Agent } from "../src/agent/agent.js";
import { loadChatTemplate } from "../src/chat/chat_template.js";
import type { ChatModel, ChatRequest } from "../src/chat/chat_model.js";
import type { ChatEvent } from "../src/chat/events.js";
import type { ChatMessage, ToolSchema } from "../src/chat/messages.js";
import { LocalChatModel } from "../src/chat/local_chat_model.js";
import { ToolRegistry } from "../src/agent/tools/tool_registry.js";
import { encodePrompt } from "../src/chat/prompt_encoder.js";
import { loadTokenizer } from "../src/chat/tokenizer.js";
import type { EngineSession, GenerationStats, SamplingOptions, TokenEvent } from "../src/engine/types.js";

const VOCAB = "../shared/vocab/kimi-k2";
const STEPS = 300;
const WINDOW = 50; // steps averaged at each end of the chain

/**
 * An EngineSession that replays one scripted token sequence per generate() call and keeps a KV
 * "cache" of prompt + generated ids, reporting reuse exactly as the real session does (longest
 * common prefix). No model runs, so the timings below are the layers above the engine.
 */
class ReplaySession implements EngineSession {
  private cache: number[] = [];
  constructor(private readonly scripts: number[][]) {}
  get tokens(): readonly number[] {
    return this.cache;
  }
  async *generate(prompt: readonly number[], sampling: SamplingOptions): AsyncIterable<TokenEvent> {
    const script = this.scripts.shift();
    if (script === undefined) throw new Error("agent bench: the scripted chain ran out of steps");
    let reused = 0;
    while (reused < prompt.length && reused < this.cache.length && this.cache[reused] === prompt[reused]) reused++;
    this.cache = [...prompt];
    const stops = new Set(sampling.stopIds ?? []);
    let generated = 0;
    for (const id of script) {
      this.cache.push(id);
      yield { type: "token", id, index: generated++, elapsedMs: 0 };
      if (stops.has(id)) break;
    }
    yield {
      type: "done",
      stats: { promptTokens: prompt.length, reusedTokens: reused, prefilledTokens: prompt.length - reused, generatedTokens: generated, prefillMs: 0, decodeMs: 0, timeToFirstTokenMs: 0, prefillTokPerS: 0, decodeTokPerS: 0, finishReason: "stop" },
    };
  }
  async logits(): Promise<Float32Array[]> {
    throw new Error("agent bench: logits() is not part of the agent loop");
  }
  truncate(length: number): void {
    this.cache.length = Math.min(this.cache.length, length);
  }
  kvBytes(): number {
    return 0;
  }
  dispose(): void {}
}

/** Wraps a ChatModel and accumulates the wall time spent inside it. */
class TimedModel implements ChatModel {
  modelMs = 0;
  constructor(private readonly inner: ChatModel) {}
  get name() {
    return this.inner.name;
  }
  get contextWindow() {
    return this.inner.contextWindow;
  }
  async countTokens(messages: ChatMessage[], tools?: ToolSchema[]) {
    const t = performance.now();
    try {
      return await this.inner.countTokens(messages, tools);
    } finally {
      this.modelMs += performance.now() - t;
    }
  }
  async *stream(request: ChatRequest, signal?: AbortSignal): AsyncIterable<ChatEvent> {
    const it = this.inner.stream(request, signal)[Symbol.asyncIterator]();
    for (;;) {
      const t = performance.now();
      const r = await it.next();
      this.modelMs += performance.now() - t;
      if (r.done) return;
      yield r.value;
    }
  }
  dispose() {
    this.inner.dispose();
  }
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

export interface AgentBenchResult {
  steps: number;
  overheadMsEarly: number;
  overheadMsLate: number;
  overheadLateOverEarly: number;
  promptPrepMsEarly: number;
  promptPrepMsLate: number;
  fullReencodeMsLate: number;
  promptPrepLateOverFull: number;
  prefilledPerStepWithReuse: number;
  prefilledPerStepWithout: number;
  prefillRatio: number;
  finalPromptTokens: number;
}

export async function run(): Promise<AgentBenchResult> {
  const tok = loadTokenizer(VOCAB);
  const template = loadChatTemplate(VOCAB);
  const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), "k2-agent-bench-")));
  try {
    mkdirSync(path.join(root, "files"));
    const scripts: number[][] = [];
    for (let i = 0; i < STEPS; i++) {
      writeFileSync(path.join(root, "files", `f${i}.txt`), `value ${i}\n`);
      scripts.push(
        tok.encodeWithSpecials(
          `<think>Step ${i}: read the next file.</think><|tool_calls_section_begin|><|tool_call_begin|>functions.read_file:${i}<|tool_call_argument_begin|>{"path": "files/f${i}.txt"}<|tool_call_end|><|tool_calls_section_end|><|im_end|>`,
        ),
      );
    }
    scripts.push(tok.encodeWithSpecials(`<think>Done.</think>Read ${STEPS} files.<|im_end|>`));
    const session = new ReplaySession(scripts);
    const local = new LocalChatModel({ name: "bench", contextWindow: 262_144, session, tokenizer: tok, template });
    const model = new TimedModel(local);
    const agent = new Agent({ model, cwd: root, root, systemPrompt: "You are k2, a coding agent.", permissions: { mode: "ask" } });

    const overhead: number[] = [];
    const prep: number[] = [];
    const stats: GenerationStats[] = [];
    let stepStart = performance.now();
    let modelAtStart = 0;
    let firstEventAt = 0;
    let stepPrepMs = 0;
    for await (const ev of agent.run(`Read files/f0.txt through files/f${STEPS - 1}.txt one at a time.`)) {
      if (ev.type === "model" && firstEventAt === 0) {
        firstEventAt = performance.now();
        // Time to the first model event ≈ render + tokenize (the scripted engine is instant).
        stepPrepMs = model.modelMs - modelAtStart;
      }
      if (ev.type === "step_stats") stats.push(ev.stats);
      // A step ends when the next one's model stream starts, or the turn ends.
      const stepDone = ev.type === "turn_end" || (ev.type === "tool_end" && stats.length > 0);
      if (stepDone) {
        const now = performance.now();
        overhead.push(now - stepStart - (model.modelMs - modelAtStart));
        prep.push(stepPrepMs);
        stepStart = now;
        modelAtStart = model.modelMs;
        firstEventAt = 0;
      }
    }
    if (stats.length !== STEPS + 1) throw new Error(`agent bench: expected ${STEPS + 1} model steps, saw ${stats.length}`);
    // Baseline, same process: the whole final conversation rendered through the checkpoint's Jinja
    // template and encoded, as every step did before; and the incremental ids must equal it.
    const finalInput = { messages: [{ role: "system" as const, content: "You are k2, a coding agent." }, ...agent.messages], tools: new ToolRegistry().schemas(), addGenerationPrompt: true };
    const fullIds = encodePrompt(tok, template, finalInput);
    const fullTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      encodePrompt(tok, template, finalInput);
      fullTimes.push(performance.now() - t);
    }
    const incrementalIds = local.promptIds(finalInput.messages, finalInput.tools);
    if (incrementalIds.length !== fullIds.length || incrementalIds.some((id, i) => id !== fullIds[i])) throw new Error("agent bench: incremental prompt ids differ from full rendering");
    const later = stats.slice(1);
    const withReuse = mean(later.map((s) => s.prefilledTokens));
    const without = mean(later.map((s) => s.promptTokens));
    const result: AgentBenchResult = {
      steps: STEPS,
      overheadMsEarly: mean(overhead.slice(1, 1 + WINDOW)),
      overheadMsLate: mean(overhead.slice(-WINDOW)),
      overheadLateOverEarly: 0,
      promptPrepMsEarly: mean(prep.slice(1, 1 + WINDOW)),
      promptPrepMsLate: mean(prep.slice(-WINDOW)),
      fullReencodeMsLate: mean(fullTimes),
      promptPrepLateOverFull: 0,
      prefilledPerStepWithReuse: withReuse,
      prefilledPerStepWithout: without,
      prefillRatio: without / withReuse,
      finalPromptTokens: stats.at(-1)!.promptTokens,
    };
    result.overheadLateOverEarly = result.overheadMsLate / result.overheadMsEarly;
    result.promptPrepLateOverFull = result.promptPrepMsLate / result.fullReencodeMsLate;
    console.log(`agent: ${STEPS}-step scripted tool chain (read_file per step), real template/tokenizer/parser`);
    console.log(`  agent overhead per step (excl. model): first ${WINDOW} ${result.overheadMsEarly.toFixed(3)} ms, last ${WINDOW} ${result.overheadMsLate.toFixed(3)} ms (late/early ${result.overheadLateOverEarly.toFixed(2)}x)`);
    console.log(`  prompt render+tokenize per step:       first ${WINDOW} ${result.promptPrepMsEarly.toFixed(2)} ms, last ${WINDOW} ${result.promptPrepMsLate.toFixed(2)} ms (late/early ${(result.promptPrepMsLate / result.promptPrepMsEarly).toFixed(2)}x)`);
    console.log(`  baseline, full Jinja render+encode of the final prompt: ${result.fullReencodeMsLate.toFixed(2)} ms; last ${WINDOW} steps take ${result.promptPrepLateOverFull.toFixed(3)}x of it (ids identical)`);
    console.log(`  tokens prefilled per step: ${withReuse.toFixed(1)} with prefix reuse vs ${without.toFixed(1)} without (${result.prefillRatio.toFixed(1)}x fewer); final prompt ${result.finalPromptTokens} tokens`);
    return result;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await run();
