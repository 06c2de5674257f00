// ChatRequest → an OpenAI chat-completions request body. Assistant turns carry their reasoning
// back as `reasoning_content`: K2 Thinking servers (vLLM/SGLang kimi_k2 parsers, Moonshot) need it
// to render earlier thinking around tool calls. Sampling fields outside OpenAI's own set (top_k,
// min_p, repetition_penalty) are sent only when set, since strict servers reject unknown fields.
import type { ChatRequest } from "../chat/chat_model.js";
import type { ChatMessage } from "../chat/messages.js";

function wireMessage(m: ChatMessage): Record<string, unknown> {
  switch (m.role) {
    case "system":
      return { role: "system", content: m.content };
    case "user":
      return { role: "user", content: m.content };
    case "tool":
      return { role: "tool", tool_call_id: m.tool_call_id, name: m.name, content: m.content };
    case "assistant": {
      const out: Record<string, unknown> = { role: "assistant", content: m.content };
      if (m.reasoning_content !== undefined && m.reasoning_content !== "") out.reasoning_content = m.reasoning_content;
      if (m.tool_calls !== undefined && m.tool_calls.length > 0) {
        if (m.content === "") out.content = null;
        out.tool_calls = m.tool_calls.map((c) => ({
          id: c.id,
          type: "function",
          function: { name: c.function.name, arguments: typeof c.function.arguments === "string" ? c.function.arguments : JSON.stringify(c.function.arguments) },
        }));
      }
      return out;
    }
  }
}

export function openAIRequestBody(model: string, request: ChatRequest): Record<string, unknown> {
  const s = request.sampling;
  const body: Record<string, unknown> = {
    model,
    messages: request.messages.map(wireMessage),
    stream: true,
    stream_options: { include_usage: true },
  };
  if (request.tools !== undefined && request.tools.length > 0) body.tools = request.tools;
  if (s.temperature !== undefined) body.temperature = s.temperature;
  if (s.topP !== undefined) body.top_p = s.topP;
  if (s.maxTokens !== undefined) body.max_tokens = s.maxTokens;
  if (s.seed !== undefined) body.seed = s.seed;
  if (s.presencePenalty !== undefined && s.presencePenalty !== 0) body.presence_penalty = s.presencePenalty;
  if (s.topK !== undefined && s.topK > 0) body.top_k = s.topK;
  if (s.minP !== undefined && s.minP > 0) body.min_p = s.minP;
  if (s.repetitionPenalty !== undefined && s.repetitionPenalty !== 1) body.repetition_penalty = s.repetitionPenalty;
  // stopIds are ids of our tokenizer; the remote server stops at its own end-of-turn tokens.
  return body;
}
