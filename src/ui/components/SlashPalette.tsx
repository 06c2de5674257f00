// The command palette shown while the prompt starts with "/".
import { Box, Text } from "ink";
import type { SlashCommand } from "../slash/slash_command.js";

export function SlashPalette({ matches, selected }: { matches: readonly SlashCommand[]; selected: number }) {
  if (matches.length === 0) return null;
  const width = Math.max(...matches.map((c) => c.name.length + (c.args !== undefined ? c.args.length + 1 : 0))) + 3;
  return (
    <Box flexDirection="column">
      {matches.map((c, i) => (
        <Text key={c.name} color={i === selected ? "cyan" : undefined} dimColor={i !== selected}>
          {`/${c.name}${c.args !== undefined ? ` ${c.args}` : ""}`.padEnd(width)}
          {c.description}
        </Text>
      ))}
    </Box>
  );
}
