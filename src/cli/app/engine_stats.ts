// /stats: what the engine and the latest generation report, as lines.
import { formatBytes, formatCount, formatRate, formatSeconds } from "../../ui/format_units.js";
import { formatMemoryPlan } from "../../engine/memory_plan.js";
import type { OpenedModel } from "./open_chat_model.js";
import type { RecordingDriver } from "./recording_driver.js";

export function engineStatsLines(opened: OpenedModel, driver: RecordingDriver): string[] {
  const lines: string[] = [];
  const e = opened.engine;
  if (e !== undefined) {
    lines.push(`engine: ${e.details.backend} · mapped ${formatBytes(e.details.mappedBytes)} · weights ${formatBytes(e.info.bytes.total)}`);
    lines.push(`memory: ${formatMemoryPlan(e.memoryPlan)}`);
  }
  if (opened.session !== undefined) {
    const cap = opened.session.kvCapacity();
    lines.push(`KV cache: ${formatCount(opened.session.tokens.length)} tokens · ${formatBytes(opened.session.kvBytes())} used of ${formatBytes(cap.bytes)} (${formatCount(cap.tokens)} tokens)`);
  }
  const last = driver.last;
  if (last === undefined) {
    lines.push("no generation yet");
    return lines;
  }
  const s = last.stats;
  lines.push(
    `last step: prompt ${s.promptTokens} (reused ${s.reusedTokens}, prefilled ${s.prefilledTokens}) · generated ${s.generatedTokens} · ${s.finishReason}`,
    `speed: prefill ${formatRate(s.prefillTokPerS)} tok/s · decode ${formatRate(s.decodeTokPerS)} tok/s · TTFT ${formatSeconds(s.timeToFirstTokenMs)}`,
    `context: ${last.contextTokens} / ${last.contextWindow} tokens · session total ${driver.totalGenerated} generated over ${driver.steps} steps`,
  );
  const x = s.experts;
  if (x !== undefined) {
    lines.push(
      `experts: ${(x.hitRate * 100).toFixed(1)}% hit (${x.hits}/${x.hits + x.misses}) · read ${formatBytes(x.bytesRead)} at ${x.readGBps.toFixed(2)} GB/s · stalls ${formatSeconds(x.stallMs)} · prefetch precision ${(x.prefetchPrecision * 100).toFixed(0)}% · resident ${formatBytes(x.residentBytes)}`,
    );
  }
  return lines;
}
