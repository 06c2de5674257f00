// Model loading: one bar over the loader's phases (shard headers read, routed experts located,
// shards mapped), what has been covered so far in bytes and experts, and the memory estimate.
import { Box, Text } from "ink";
import type { LoadProgress as Progress } from "../../engine/types.js";
import { formatBytes, formatCount } from "../format_units.js";

/** What loading will cost in memory (cli/app/memory_estimate.ts works it out before the load). */
export interface LoadMemoryEstimate {
  weightsBytes: number;
  /** KV cache at a full context window of `contextTokens`. */
  kvBytes?: number;
  contextTokens?: number;
  /** The memory budget the engine will keep to, and where it comes from. */
  budgetBytes?: number;
  budgetSource?: string;
}

export interface LoadProgressProps {
  modelName: string;
  progress?: Progress;
  memory?: LoadMemoryEstimate;
  /** Seconds since loading started. */
  elapsedS?: number;
  width: number;
}

// Where each phase sits on the one bar, roughly by its share of the load time at K2's size
// (docs/benchmarks.md: index + headers ~1.7 s, matching 208k tensors ~1.5 s, mapping < 1 s).
const PHASE_SPAN: Record<Progress["phase"], [number, number]> = {
  headers: [0, 0.45],
  experts: [0.45, 0.85],
  mapping: [0.85, 1],
  ready: [1, 1],
};

export function loadFraction(p: Progress | undefined): number {
  if (p === undefined) return 0;
  const [from, to] = PHASE_SPAN[p.phase];
  const within = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  return from + (to - from) * within;
}

export function progressBar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.round(f * width);
  return "█".repeat(filled) + "░".repeat(width - filled);
}

/** What the current phase has covered, in words. */
export function loadDetail(p: Progress | undefined): string {
  if (p === undefined) return "starting";
  switch (p.phase) {
    case "headers":
      // Before the first shard header, the loader is reading config.json and the (large) index.
      if (p.done === 0 && p.bytesDone === undefined) return "reading config and shard index";
      return `reading shard headers ${p.done} / ${p.total}${p.bytesDone !== undefined ? ` · ${formatBytes(p.bytesDone)} of weights` : ""}`;
    case "experts":
      return `indexing experts ${formatCount(p.done)} / ${formatCount(p.total)}`;
    case "mapping":
      return `mapping ${p.total} shards${p.bytesTotal !== undefined ? ` · ${formatBytes(p.bytesTotal)}` : ""}`;
    case "ready":
      return `ready${p.bytesTotal !== undefined ? ` · ${formatBytes(p.bytesTotal)} mapped` : ""}`;
  }
}

export function memoryLine(m: LoadMemoryEstimate): string {
  const kv = m.kvBytes !== undefined ? ` + KV cache up to ${formatBytes(m.kvBytes)} (${formatCount(m.contextTokens ?? 0)} tokens)` : "";
  const budget = m.budgetBytes !== undefined ? `${formatBytes(m.budgetBytes)}${m.budgetSource !== undefined ? ` (${m.budgetSource})` : ""}` : undefined;
  if (budget !== undefined && m.weightsBytes + (m.kvBytes ?? 0) > m.budgetBytes!) {
    return `memory: at most ${budget}: dense weights${kv} + an expert cache; the other experts of the ${formatBytes(m.weightsBytes)} of weights are read from disk when needed`;
  }
  return `memory: weights ${formatBytes(m.weightsBytes)} memory-mapped${kv}${budget !== undefined ? `, within ${budget}` : ""}`;
}

export function LoadProgress({ modelName, progress, memory, elapsedS, width }: LoadProgressProps) {
  const fraction = loadFraction(progress);
  return (
    <Box flexDirection="column">
      <Text>
        Loading <Text bold>{modelName}</Text>
        {elapsedS !== undefined ? <Text dimColor> · {elapsedS.toFixed(1)} s</Text> : null}
      </Text>
      {memory !== undefined ? <Text dimColor>{memoryLine(memory)}</Text> : null}
      <Text>
        <Text color="cyan">{progressBar(fraction, Math.max(10, Math.min(40, width - 50)))}</Text> {Math.round(fraction * 100)}% <Text dimColor>{loadDetail(progress)}</Text>
      </Text>
    </Box>
  );
}
