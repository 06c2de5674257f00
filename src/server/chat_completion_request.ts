// Validates a POST /v1/chat/completions body into a ChatRequest plus the response options. Every
// rejection is a 400 naming the field (`messages[2].tool_call_id`), as OpenAI's API does. Unknown
// fields are ignored (clients send many); supported fields with unsupported values are rejected
// rather than silently ignored.
import type { ChatRequest } from "../chat/chat_model.js";
import type { ChatMessage, TextPart, ToolCall, ToolSchema } from "../chat/messages.js";
import type { SamplingOptions } from "../engine/types.js";
import { HttpError } from "./http_error.js";

export interface ChatCompletionOptions {
  request: ChatRequest;
  model: string | undefined;
  stream: boolean;
  includeUsage: boolean;
  /** Strings that end the answer (matched in content; the match is not returned). */
  stop: string[];
}

const MAX_STOP_SEQUENCES = 16;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function bad(param: string, message: string): HttpError {
  return HttpError.badRequest(param, `${param}: ${message}`);
}

function optionalNumber(body: Json, field: string, min: number, max: number, integer = false): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) throw bad(field, `expected a number, got ${JSON.stringify(v)}`);
  if (integer && !Number.isInteger(v)) throw bad(field, `expected a whole number, got ${v}`);
  if (v < min || v > max) throw bad(field, `${v} is out of range (${min}..${max})`);
  return v;
}

function optionalBoolean(body: Json, field: string, param = field): boolean | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw bad(param, `expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** String content or an array of text parts (other part types cannot be fed to a text model). */
function textContent(v: unknown, param: string, allowNull: boolean): string {
  if (typeof v === "string") return v;
  if ((v === null || v === undefined) && allowNull) return "";
  if (Array.isArray(v)) return textParts(v, param).map((p) => p.text).join("");
  throw bad(param, `expected a string or an array of text parts, got ${JSON.stringify(v)}`);
}

function textParts(v: unknown[], param: string): TextPart[] {
  return v.map((part, i) => {
    if (!isObject(part)) throw bad(`${param}[${i}]`, "expected a content part object");
    if (part.type !== "text") throw bad(`${param}[${i}].type`, `only "text" parts are supported (this model reads text), got ${JSON.stringify(part.type)}`);
    if (typeof part.text !== "string") throw bad(`${param}[${i}].text`, "expected a string");
    return { type: "text", text: part.text };
  });
}

function parseToolCalls(v: unknown, param: string): ToolCall[] {
  if (!Array.isArray(v)) throw bad(param, "expected an array of tool calls");
  return v.map((call, i) => {
    const p = `${param}[${i}]`;
    if (!isObject(call)) throw bad(p, "expected a tool call object");
    if (typeof call.id !== "string" || call.id === "") throw bad(`${p}.id`, "expected a non-empty string");
    if (call.type !== undefined && call.type !== "function") throw bad(`${p}.type`, `expected "function", got ${JSON.stringify(call.type)}`);
    const fn = call.function;
    if (!isObject(fn)) throw bad(`${p}.function`, "expected an object with name and arguments");
    if (typeof fn.name !== "string" || fn.name === "") throw bad(`${p}.function.name`, "expected a non-empty string");
    const args = fn.arguments ?? "";
    if (typeof args !== "string" && !isObject(args)) throw bad(`${p}.function.arguments`, "expected a JSON string");
    return { id: call.id, type: "function", function: { name: fn.name, arguments: args } };
  });
}

/** K2's ids are `functions.NAME:IDX`; a tool message without `name` takes it from its call. */
function toolNameFor(callId: string, earlier: readonly ChatMessage[]): string | undefined {
  for (let i = earlier.length - 1; i >= 0; i--) {
    const m = earlier[i]!;
    if (m.role !== "assistant") continue;
    const call = m.tool_calls?.find((c) => c.id === callId);
    if (call !== undefined) return call.function.name;
  }
  const m = /^functions\.(.+):\d+$/.exec(callId);
  return m?.[1];
}

function parseMessages(v: unknown): ChatMessage[] {
  if (!Array.isArray(v) || v.length === 0) throw bad("messages", "expected a non-empty array of messages");
  const out: ChatMessage[] = [];
  v.forEach((m, i) => {
    const p = `messages[${i}]`;
    if (!isObject(m)) throw bad(p, "expected a message object");
    switch (m.role) {
      case "system":
      case "developer":
        out.push({ role: "system", content: textContent(m.content, `${p}.content`, false) });
        break;
      case "user":
        if (Array.isArray(m.content)) out.push({ role: "user", content: textParts(m.content, `${p}.content`) });
        else out.push({ role: "user", content: textContent(m.content, `${p}.content`, false) });
        break;
      case "assistant": {
        const msg: Extract<ChatMessage, { role: "assistant" }> = { role: "assistant", content: textContent(m.content, `${p}.content`, true) };
        const reasoning = m.reasoning_content ?? m.reasoning;
        if (reasoning !== undefined && reasoning !== null) {
          if (typeof reasoning !== "string") throw bad(`${p}.reasoning_content`, "expected a string");
          if (reasoning !== "") msg.reasoning_content = reasoning;
        }
        if (m.tool_calls !== undefined && m.tool_calls !== null) {
          const calls = parseToolCalls(m.tool_calls, `${p}.tool_calls`);
          if (calls.length > 0) msg.tool_calls = calls;
        }
        out.push(msg);
        break;
      }
      case "tool": {
        if (typeof m.tool_call_id !== "string" || m.tool_call_id === "") throw bad(`${p}.tool_call_id`, "expected the id of the tool call this message answers");
        let name = m.name;
        if (name === undefined || name === null) name = toolNameFor(m.tool_call_id, out);
        if (typeof name !== "string" || name === "") {
          throw bad(`${p}.name`, `no name given and no earlier assistant tool call has id ${JSON.stringify(m.tool_call_id)}`);
        }
        out.push({ role: "tool", tool_call_id: m.tool_call_id, name, content: textContent(m.content, `${p}.content`, false) });
        break;
      }
      default:
        throw bad(`${p}.role`, `expected "system", "developer", "user", "assistant" or "tool", got ${JSON.stringify(m.role)}`);
    }
  });
  return out;
}

function parseTools(v: unknown): ToolSchema[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad("tools", "expected an array of function tools");
  return v.map((t, i) => {
    const p = `tools[${i}]`;
    if (!isObject(t)) throw bad(p, "expected a tool object");
    if (t.type !== "function") throw bad(`${p}.type`, `only "function" tools are supported, got ${JSON.stringify(t.type)}`);
    const fn = t.function;
    if (!isObject(fn)) throw bad(`${p}.function`, "expected an object with name, description and parameters");
    if (typeof fn.name !== "string" || !/^[A-Za-z0-9_.-]{1,64}$/.test(fn.name)) {
      throw bad(`${p}.function.name`, `expected 1-64 letters, digits, "_", "." or "-", got ${JSON.stringify(fn.name)}`);
    }
    if (fn.description !== undefined && typeof fn.description !== "string") throw bad(`${p}.function.description`, "expected a string");
    if (fn.parameters !== undefined && !isObject(fn.parameters)) throw bad(`${p}.function.parameters`, "expected a JSON schema object");
    return {
      type: "function",
      function: { name: fn.name, description: (fn.description as string | undefined) ?? "", parameters: (fn.parameters as Json | undefined) ?? { type: "object", properties: {} } },
    };
  });
}

/** "none" hides the tools from the model; "auto" offers them. Forcing a call needs constrained
 *  decoding, which this server does not do, so "required" and named functions are refused. */
function applyToolChoice(v: unknown, tools: ToolSchema[]): ToolSchema[] {
  if (v === undefined || v === null || v === "auto") return tools;
  if (v === "none") return [];
  if (v === "required" || isObject(v)) {
    throw bad("tool_choice", `${JSON.stringify(v)} is not supported: this server cannot force a tool call; use "auto" or "none"`);
  }
  throw bad("tool_choice", `expected "auto" or "none", got ${JSON.stringify(v)}`);
}

function parseStop(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  const list = typeof v === "string" ? [v] : v;
  if (!Array.isArray(list)) throw bad("stop", "expected a string or an array of strings");
  if (list.length > MAX_STOP_SEQUENCES) throw bad("stop", `at most ${MAX_STOP_SEQUENCES} stop sequences, got ${list.length}`);
  list.forEach((s, i) => {
    if (typeof s !== "string" || s === "") throw bad(`stop[${i}]`, "expected a non-empty string");
  });
  return list as string[];
}

export function parseChatCompletionRequest(body: unknown): ChatCompletionOptions {
  if (!isObject(body)) throw HttpError.badRequest(null, "request body must be a JSON object");
  if (body.model !== undefined && typeof body.model !== "string") throw bad("model", "expected a string");
  const messages = parseMessages(body.messages);
  const tools = applyToolChoice(body.tool_choice, parseTools(body.tools));

  const n = optionalNumber(body, "n", 1, 1, true);
  void n; // only one choice per request: the engine runs one generation at a time
  if (body.logprobs === true) throw bad("logprobs", "log probabilities are not supported by this server");
  const format = body.response_format;
  if (format !== undefined && format !== null && !(isObject(format) && format.type === "text")) {
    throw bad("response_format", `only {"type": "text"} is supported (no constrained decoding), got ${JSON.stringify(format)}`);
  }

  const sampling: SamplingOptions = {};
  const temperature = optionalNumber(body, "temperature", 0, 2);
  if (temperature !== undefined) sampling.temperature = temperature;
  const topP = optionalNumber(body, "top_p", Number.MIN_VALUE, 1);
  if (topP !== undefined) sampling.topP = topP;
  const topK = optionalNumber(body, "top_k", -1, 1_000_000, true);
  if (topK !== undefined) sampling.topK = topK < 0 ? 0 : topK;
  const minP = optionalNumber(body, "min_p", 0, 1);
  if (minP !== undefined) sampling.minP = minP;
  const presence = optionalNumber(body, "presence_penalty", -2, 2);
  if (presence !== undefined) sampling.presencePenalty = presence;
  const repetition = optionalNumber(body, "repetition_penalty", Number.MIN_VALUE, 10);
  if (repetition !== undefined) sampling.repetitionPenalty = repetition;
  const frequency = optionalNumber(body, "frequency_penalty", -2, 2);
  if (frequency !== undefined && frequency !== 0) throw bad("frequency_penalty", "is not supported by this engine (use presence_penalty or repetition_penalty)");
  const seed = optionalNumber(body, "seed", Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, true);
  if (seed !== undefined) sampling.seed = seed;
  const maxTokens = optionalNumber(body, "max_completion_tokens", 1, 1 << 30, true) ?? optionalNumber(body, "max_tokens", 1, 1 << 30, true);
  if (maxTokens !== undefined) sampling.maxTokens = maxTokens;

  const stream = optionalBoolean(body, "stream") ?? false;
  let includeUsage = false;
  const so = body.stream_options;
  if (so !== undefined && so !== null) {
    if (!isObject(so)) throw bad("stream_options", "expected an object");
    includeUsage = optionalBoolean(so, "include_usage", "stream_options.include_usage") ?? false;
  }

  const request: ChatRequest = { messages, sampling };
  if (tools.length > 0) request.tools = tools;
  return { request, model: body.model as string | undefined, stream, includeUsage, stop: parseStop(body.stop) };
}
