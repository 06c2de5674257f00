// The multi-line prompt with a visible cursor. Editing happens in App's key handler.
import { Box, Text } from "ink";
import type { InputBuffer } from "../input_buffer.js";

export interface PromptInputProps {
  buffer: InputBuffer;
  placeholder: string;
  focused: boolean;
}

export function PromptInput({ buffer, placeholder, focused }: PromptInputProps) {
  const { text, cursor } = buffer;
  const lines = text.split("\n");
  let offset = 0;
  return (
    <Box flexDirection="column" borderStyle="round" borderDimColor paddingX={1}>
      {text === "" ? (
        <Text>
          <Text color="cyan">{"› "}</Text>
          {focused ? <Text inverse>{placeholder.slice(0, 1) || " "}</Text> : null}
          <Text dimColor>{focused ? placeholder.slice(1) : placeholder}</Text>
        </Text>
      ) : (
        lines.map((line, i) => {
          const start = offset;
          offset += line.length + 1;
          const prefix = <Text color="cyan">{i === 0 ? "› " : "  "}</Text>;
          if (!focused || cursor < start || cursor > start + line.length) {
            return (
              <Text key={i}>
                {prefix}
                {line}
              </Text>
            );
          }
          const col = cursor - start;
          const at = line.slice(col, col + 1) || " ";
          return (
            <Text key={i}>
              {prefix}
              {line.slice(0, col)}
              <Text inverse>{at}</Text>
              {line.slice(col + 1)}
            </Text>
          );
        })
      )}
    </Box>
  );
}
