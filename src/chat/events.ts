// What a model turn produces, as typed events. The streaming output parser turns K2 tokens into
// these; a remote OpenAI-compatible backend turns SSE deltas into the same events; the agent and
// the UI consume nothing else.
import type { GenerationStats } from "../engine/types.js";

export type ChatEvent =
  | { type: "reasoning"; text: string }
  | { type: "content"; text: string }
  | { type: "tool_call_start"; index: number; id: string; name: string }
  | { type: "tool_call_delta"; index: number; id: string; text: string }
  | { type: "tool_call_end"; index: number; id: string; name: string; arguments: Record<string, unknown>; raw: string }
  | { type: "tool_call_error"; index: number; id: string; name: string; raw: string; message: string }
  | { type: "stats"; stats: GenerationStats }
  | { type: "end"; reason: "stop" | "length" | "cancelled" | "tool_calls" };
