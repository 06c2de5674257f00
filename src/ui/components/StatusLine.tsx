// The status line under the prompt: model, context, speed, expert cache, mode, cwd and branch.
import { Text } from "ink";
import os from "node:os";
import type { PermissionMode } from "../../agent/events.js";
import { formatBytes, formatCount, formatRate, formatSeconds } from "../format_units.js";
import type { StepTelemetry } from "../transcript.js";

export interface StatusLineProps {
  modelName: string;
  contextWindow: number;
  telemetry?: StepTelemetry;
  mode: PermissionMode;
  cwd: string;
  branch: string | null;
  width: number;
}

export function statusText(p: StatusLineProps): string {
  const parts: string[] = [p.modelName];
  const t = p.telemetry;
  const used = t?.contextTokens ?? 0;
  const window = t?.contextWindow ?? p.contextWindow;
  parts.push(`ctx ${formatCount(used)}/${formatCount(window)} (${window > 0 ? Math.round((100 * used) / window) : 0}%)`);
  if (t !== undefined) {
    const s = t.stats;
    parts.push(`prefill ${formatRate(s.prefillTokPerS)} tok/s · decode ${formatRate(s.decodeTokPerS)} tok/s · TTFT ${formatSeconds(s.timeToFirstTokenMs)}`);
    if (s.experts !== undefined) parts.push(`experts ${(s.experts.hitRate * 100).toFixed(0)}% hit · ${formatBytes(s.experts.residentBytes)}`);
  }
  parts.push(`mode: ${p.mode}`);
  const home = os.homedir();
  const cwd = p.cwd.startsWith(home) ? `~${p.cwd.slice(home.length)}` : p.cwd;
  parts.push(p.branch !== null ? `${cwd} (${p.branch})` : cwd);
  return parts.join(" │ ");
}

export function StatusLine(props: StatusLineProps) {
  const modeColor = props.mode === "yolo" ? "red" : props.mode === "auto-edit" ? "yellow" : undefined;
  return (
    <Text dimColor={modeColor === undefined} color={modeColor} wrap="truncate-end">
      {statusText(props)}
    </Text>
  );
}
