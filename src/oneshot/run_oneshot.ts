// `k2 -p` and piped input: no Ink. The answer goes to stdout as it streams (text), as one JSON
// object (json) or as one JSON event per line (stream-json); reasoning and tool progress go to
// stderr, and only with --show-thinking. SIGINT cancels the turn and exits 130.
import type { AgentEvent } from "../agent/events.js";
import { ansiStyle, colorAllowed, sanitizeTerminalText } from "../ui/ansi_style.js";
import { formatRate, formatSeconds } from "../ui/format_units.js";
import { exitCodeFor, OneShotCollector, type OneShotResult } from "./oneshot_result.js";

export type OutputFormat = "text" | "json" | "stream-json";
export const OUTPUT_FORMATS: readonly OutputFormat[] = ["text", "json", "stream-json"];

export interface OneShotDriver {
  readonly model: { readonly name: string };
  run(userText: string, signal?: AbortSignal): AsyncIterable<AgentEvent>;
}

export interface OneShotOptions {
  format: OutputFormat;
  showThinking: boolean;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Aborting it cancels the turn (the caller wires SIGINT). */
  signal?: AbortSignal;
}

/** Builds the user turn: piped stdin is context, the -p argument the instruction. */
export function composePrompt(instruction: string | undefined, stdinText: string | undefined): string {
  const input = stdinText !== undefined && stdinText.trim() !== "" ? stdinText.replace(/\s+$/, "") : undefined;
  const ask = instruction !== undefined && instruction.trim() !== "" ? instruction.trim() : undefined;
  if (input !== undefined && ask !== undefined) return `${ask}\n\n<stdin>\n${input}\n</stdin>`;
  return ask ?? input ?? "";
}

export async function runOneShot(driver: OneShotDriver, prompt: string, o: OneShotOptions): Promise<{ exitCode: number; result: OneShotResult }> {
  const stdout = o.stdout ?? process.stdout;
  // After the reader goes away (EPIPE) the stream is no longer writable; drop output quietly.
  const out = { write: (s: string) => void (stdout.writable && stdout.write(s)) };
  const err = o.stderr ?? process.stderr;
  const errStyle = ansiStyle(colorAllowed(err));
  const collector = new OneShotCollector(driver.model.name);
  let wroteContent = false;
  let inReasoning = false;
  let lastContentStep = -1;

  const onEvent = (ev: AgentEvent): void => {
    collector.add(ev);
    if (ev.type === "error" && o.format !== "text") err.write(`k2: ${ev.message}\n`);
    if (o.format === "stream-json") {
      out.write(JSON.stringify(ev) + "\n");
      return;
    }
    if (o.format !== "text") return;
    if (ev.type === "model") {
      const e = ev.event;
      if (e.type === "content") {
        if (inReasoning) {
          err.write("\n");
          inReasoning = false;
        }
        if (lastContentStep !== -1 && lastContentStep !== ev.step) out.write("\n\n");
        lastContentStep = ev.step;
        out.write(sanitizeTerminalText(e.text));
        wroteContent = true;
      } else if (e.type === "reasoning" && o.showThinking) {
        err.write(errStyle.dim(sanitizeTerminalText(e.text)));
        inReasoning = true;
      }
      return;
    }
    if (!o.showThinking) {
      if (ev.type === "error") err.write(`k2: ${ev.message}\n`);
      return;
    }
    if (inReasoning && ev.type !== "step_stats") {
      err.write("\n");
      inReasoning = false;
    }
    if (ev.type === "tool_start") err.write(errStyle.gray(`→ ${ev.name} ${ev.summary}\n`));
    else if (ev.type === "tool_end") err.write(errStyle.gray(`  ${ev.ok ? "ok" : "failed"} (${formatSeconds(ev.durationMs)})\n`));
    else if (ev.type === "step_stats")
      err.write(errStyle.gray(`${inReasoning ? "\n" : ""}[step ${ev.step}: prefill ${formatRate(ev.stats.prefillTokPerS)} tok/s, decode ${formatRate(ev.stats.decodeTokPerS)} tok/s, ctx ${ev.contextTokens}/${ev.contextWindow}]\n`));
    else if (ev.type === "compaction") err.write(errStyle.gray(`[compacted ${ev.beforeTokens} → ${ev.afterTokens} tokens]\n`));
    else if (ev.type === "error") err.write(`k2: ${ev.message}\n`);
    if (ev.type === "step_stats") inReasoning = false;
  };

  try {
    for await (const ev of driver.run(prompt, o.signal)) onEvent(ev);
  } catch (e) {
    if (o.signal?.aborted !== true) throw e;
    collector.add({ type: "turn_end", reason: "cancelled" });
  }
  const result = collector.finish();
  if (o.format === "text" && wroteContent) out.write("\n");
  if (o.format === "json") out.write(JSON.stringify(result, null, 2) + "\n");
  return { exitCode: exitCodeFor(result), result };
}
