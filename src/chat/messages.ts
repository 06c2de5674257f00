// OpenAI-style chat messages as K2's chat template consumes them.

export interface ToolCall {
  id: string; // "functions.NAME:IDX"
  type: "function";
  function: { name: string; arguments: string | Record<string, unknown> };
}

export interface TextPart {
  type: "text";
  text: string;
}

export type ChatMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string | TextPart[] }
  | { role: "assistant"; content: string; reasoning_content?: string; tool_calls?: ToolCall[] }
  | { role: "tool"; tool_call_id: string; name: string; content: string };

/** A tool as an OpenAI function schema. */
export interface ToolSchema {
  type: "function";
  function: { name: string; description: string; parameters: Record<string, unknown> };
}
