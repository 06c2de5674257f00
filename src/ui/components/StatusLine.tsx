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

/** The status segments packed greedily into as few lines of the terminal's width as they need. */
export function statusLines(p: StatusLineProps): string[] {
  const parts: string[] = [p.modelName];
  const t = p.telemetry;
  const used = t?.contextTokens ?? 0;
  const window = t?.contextWindow ?? p.contextWindow;
  parts.push(`ctx ${formatCount(used)}/${formatCount(window)} (${window > 0 ? Math.round((100 * used) / window) : 0}%)`);
  if (t !== undefined) {
    const s = t.stats;
    parts.push(`prefill ${formatRate(s.prefillTokPerS)} tok/s · decode ${formatRate(s.decodeTokPerS)} tok/s`, `TTFT ${formatSeconds(s.timeToFirstTokenMs)}`);
    if (s.experts !== undefined) parts.push(`experts ${(s.experts.hitRate * 100).toFixed(0)}% hit · ${formatBytes(s.experts.residentBytes)}`);
  }
  parts.push(`mode: ${p.mode}`);
  const home = os.homedir();
  const cwd = p.cwd.startsWith(home) ? `~${p.cwd.slice(home.length)}` : p.cwd;
  parts.push(p.branch !== null ? `${cwd} (${p.branch})` : cwd);
  const lines: string[] = [];
  for (const part of parts) {
    const last = lines[lines.length - 1];
    if (last !== undefined && last.length + 3 + part.length <= p.width) lines[lines.length - 1] = `${last} │ ${part}`;
    else lines.push(part);
  }
  return lines;
}

export function StatusLine(props: StatusLineProps) {
  const modeColor = props.mode === "yolo" ? "red" : props.mode === "auto-edit" ? "yellow" : undefined;
  return (
    <Text dimColor={modeColor === undefined} color={modeColor} wrap="truncate-end">
      {statusLines(props).join("\n")}
    </Text>
  );
}
