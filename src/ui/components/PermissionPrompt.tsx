// Asks before a tool runs: what it will do (and the diff for edits), then once / always this
// session / always in this project / deny.
import { Box, Text } from "ink";
import type { PermissionDecision, PermissionRequest } from "../../agent/events.js";
import type { AnsiStyle } from "../ansi_style.js";
import { renderDiff } from "../diff_render.js";

export const PERMISSION_CHOICES: { decision: PermissionDecision; label: (r: PermissionRequest) => string }[] = [
  { decision: "once", label: () => "Yes, this once" },
  { decision: "session", label: (r) => `Yes, and allow ${r.suggestedRule} for this session` },
  { decision: "project", label: (r) => `Yes, and always allow ${r.suggestedRule} in this project` },
  { decision: "deny", label: () => "No, tell the model what to do instead (esc)" },
];

export interface PermissionPromptProps {
  request: PermissionRequest;
  selected: number;
  style: AnsiStyle;
  maxDiffLines: number;
}

export function PermissionPrompt({ request, selected, style, maxDiffLines }: PermissionPromptProps) {
  return (
    <Box flexDirection="column" borderStyle="round" borderColor="yellow" paddingX={1}>
      <Text bold>
        Allow {request.tool}? <Text dimColor>{request.summary}</Text>
      </Text>
      {request.diff !== undefined && request.diff !== "" ? <Text>{renderDiff(request.diff, style, maxDiffLines).join("\n")}</Text> : null}
      {PERMISSION_CHOICES.map((c, i) => (
        <Text key={c.decision} color={i === selected ? "cyan" : undefined}>
          {i === selected ? "❯" : " "} {i + 1}. {c.label(request)}
        </Text>
      ))}
    </Box>
  );
}
