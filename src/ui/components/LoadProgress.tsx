// Model loading: a progress bar per phase (headers, mapping bytes, indexing experts) and the
// memory estimate, shown until the engine is ready.
import { Box, Text } from "ink";
import type { LoadProgress as Progress } from "../../engine/types.js";
import { formatBytes } from "../format_units.js";

export interface LoadProgressProps {
  modelName: string;
  progress?: Progress;
  memoryEstimateBytes?: number;
  width: number;
}

const PHASE_LABEL: Record<Progress["phase"], string> = {
  headers: "reading headers",
  mapping: "mapping weights",
  experts: "indexing experts",
  ready: "ready",
};

const PHASE_UNIT: Record<Progress["phase"], string> = {
  headers: "files",
  mapping: "shards",
  experts: "experts",
  ready: "",
};

export function progressBar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.round(f * width);
  return "█".repeat(filled) + "░".repeat(width - filled);
}

export function LoadProgress({ modelName, progress, memoryEstimateBytes, width }: LoadProgressProps) {
  const fraction = progress !== undefined && progress.total > 0 ? progress.done / progress.total : 0;
  const amount = progress === undefined ? "" : `${progress.done} / ${progress.total} ${PHASE_UNIT[progress.phase]}`;
  return (
    <Box flexDirection="column">
      <Text>
        Loading <Text bold>{modelName}</Text>
        {memoryEstimateBytes !== undefined ? <Text dimColor> · weights {formatBytes(memoryEstimateBytes)} (memory-mapped)</Text> : null}
      </Text>
      <Text>
        <Text color="cyan">{progressBar(fraction, Math.max(10, Math.min(40, width - 40)))}</Text> {Math.round(fraction * 100)}%{" "}
        <Text dimColor>
          {progress !== undefined ? PHASE_LABEL[progress.phase] : "starting"} {amount}
        </Text>
      </Text>
    </Box>
  );
}
