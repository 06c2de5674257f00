// The agent's plan (todo tool), shown above the prompt while any item is unfinished.
import { Box, Text } from "ink";
import type { TodoItem } from "../../agent/events.js";

const MARK: Record<TodoItem["status"], string> = { pending: "☐", in_progress: "◐", completed: "☑" };

export function TodoList({ items }: { items: readonly TodoItem[] }) {
  if (items.length === 0 || items.every((i) => i.status === "completed")) return null;
  return (
    <Box flexDirection="column">
      {items.map((item, i) => (
        <Text key={i} dimColor={item.status === "completed"} bold={item.status === "in_progress"} strikethrough={item.status === "completed"}>
          {MARK[item.status]} {item.content}
        </Text>
      ))}
    </Box>
  );
}
