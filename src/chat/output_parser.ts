// Streaming parser of a K2 assistant turn, token by token, into typed events:
//   <think>reasoning</think>content
//   <|tool_calls_section_begin|><|tool_call_begin|>functions.NAME:IDX<|tool_call_argument_begin|>{json}<|tool_call_end|>…<|tool_calls_section_end|>
//   <|im_end|>
// Structure is read from special-token ids only, so text that merely looks like markup stays text.
// A tool-call section opened before </think> ends the reasoning (K2 Thinking does that). Malformed
// or truncated arguments become a tool_call_error carrying the raw text; nothing here throws on
// model output.
import type { ChatEvent } from "./events.js";
import { StreamDecoder } from "./stream_decoder.js";
import type { K2Tokenizer } from "./tokenizer.js";

/** What the parser emits: every ChatEvent except the stats/end pair the caller adds. */
export type ParsedEvent = Exclude<ChatEvent, { type: "stats" } | { type: "end" }>;

type State = "content" | "reasoning" | "section" | "call_id" | "call_args" | "done";

interface OpenCall {
  index: number;
  id: string;
  name: string;
  idText: string;
  raw: string;
  started: boolean;
}

interface Markup {
  think: number | undefined;
  thinkEnd: number | undefined;
  sectionBegin: number | undefined;
  sectionEnd: number | undefined;
  callBegin: number | undefined;
  argBegin: number | undefined;
  callEnd: number | undefined;
  stops: Set<number>;
}

const CALL_ID = /^(?:functions\.)?(.+):(\d+)$/;

export class K2OutputParser {
  private state: State = "content";
  private readonly decoder: StreamDecoder;
  private readonly m: Markup;
  private call: OpenCall | undefined;
  private nextIndex: number;
  private calls = 0;

  /**
   * @param firstToolIndex the dialog-wide index of this turn's first tool call (the number of tool
   *   calls in earlier messages): K2 numbers calls `functions.NAME:IDX` across the whole dialog.
   * @param stopIds ids that end the turn (defaults to the tokenizer's `<|im_end|>`/[EOS]).
   */
  constructor(
    private readonly tokenizer: K2Tokenizer,
    options: { firstToolIndex?: number; stopIds?: readonly number[] } = {},
  ) {
    this.decoder = new StreamDecoder(tokenizer);
    const id = (name: string): number | undefined => tokenizer.findSpecialId(name);
    this.m = {
      think: id("<think>"),
      thinkEnd: id("</think>"),
      sectionBegin: id("<|tool_calls_section_begin|>"),
      sectionEnd: id("<|tool_calls_section_end|>"),
      callBegin: id("<|tool_call_begin|>"),
      argBegin: id("<|tool_call_argument_begin|>"),
      callEnd: id("<|tool_call_end|>"),
      stops: new Set(options.stopIds ?? tokenizer.stopIds),
    };
    this.nextIndex = options.firstToolIndex ?? 0;
  }

  /** True once a stop token (`<|im_end|>`, [EOS]) was seen; later tokens are ignored. */
  get turnEnded(): boolean {
    return this.state === "done";
  }

  /** Tool calls started in this turn (well-formed or not). */
  get toolCallCount(): number {
    return this.calls;
  }

  push(id: number): ParsedEvent[] {
    const out: ParsedEvent[] = [];
    if (this.state === "done") return out;
    if (!this.tokenizer.isSpecial(id)) {
      this.text(this.decoder.push(id), out);
      return out;
    }
    this.text(this.decoder.flush(), out);
    const m = this.m;
    if (m.stops.has(id)) {
      this.abandonCall("the turn ended inside a tool call", out);
      this.state = "done";
    } else if (id === m.think && (this.state === "content" || this.state === "reasoning")) {
      this.state = "reasoning";
    } else if (id === m.thinkEnd && (this.state === "content" || this.state === "reasoning")) {
      this.state = "content";
    } else if (id === m.sectionBegin && this.state !== "call_id" && this.state !== "call_args") {
      this.state = "section";
    } else if (id === m.callBegin) {
      this.abandonCall("a new tool call began before this one ended", out);
      this.call = { index: this.nextIndex++, id: "", name: "", idText: "", raw: "", started: false };
      this.calls++;
      this.state = "call_id";
    } else if (id === m.argBegin && this.state === "call_id") {
      this.startCall(out);
      this.state = "call_args";
    } else if (id === m.callEnd && (this.state === "call_id" || this.state === "call_args")) {
      this.endCall(out);
      this.state = "section";
    } else if (id === m.sectionEnd) {
      this.abandonCall("the tool-call section ended inside a tool call", out);
      this.state = "content";
    } else {
      // Any other special token (or markup out of place) is shown as text where it occurred.
      this.text(this.decoder.push(id), out);
    }
    return out;
  }

  /** The stream ended (stop token, length limit or cancel): flushes text, reports an open call. */
  finish(): ParsedEvent[] {
    const out: ParsedEvent[] = [];
    if (this.state === "done") return out;
    this.text(this.decoder.flush(), out);
    this.abandonCall("generation stopped inside a tool call (truncated arguments)", out);
    this.state = "done";
    return out;
  }

  private text(text: string, out: ParsedEvent[]): void {
    if (text === "") return;
    switch (this.state) {
      case "content":
        out.push({ type: "content", text });
        return;
      case "reasoning":
        out.push({ type: "reasoning", text });
        return;
      case "section":
        // Between calls K2 writes nothing; keep anything but whitespace as content so none is lost.
        if (text.trim() !== "") out.push({ type: "content", text });
        return;
      case "call_id":
        this.call!.idText += text;
        return;
      case "call_args": {
        const call = this.call!;
        call.raw += text;
        out.push({ type: "tool_call_delta", index: call.index, id: call.id, text });
        return;
      }
      case "done":
        return;
    }
  }

  private startCall(out: ParsedEvent[]): void {
    const call = this.call!;
    const idText = call.idText.trim();
    const match = CALL_ID.exec(idText);
    if (match !== null) {
      call.name = match[1]!;
      call.id = idText;
    } else {
      // Not K2's id shape: keep what looks like the name and number the call ourselves.
      call.name = idText.replace(/^functions\./, "");
      call.id = `functions.${call.name}:${call.index}`;
    }
    call.started = true;
    out.push({ type: "tool_call_start", index: call.index, id: call.id, name: call.name });
  }

  private endCall(out: ParsedEvent[]): void {
    const call = this.call!;
    if (!call.started) this.startCall(out);
    this.call = undefined;
    const parsed = parseArguments(call.raw);
    if (typeof parsed === "string") {
      out.push({ type: "tool_call_error", index: call.index, id: call.id, name: call.name, raw: call.raw, message: parsed });
    } else {
      out.push({ type: "tool_call_end", index: call.index, id: call.id, name: call.name, arguments: parsed, raw: call.raw });
    }
  }

  private abandonCall(message: string, out: ParsedEvent[]): void {
    const call = this.call;
    if (call === undefined) return;
    if (!call.started) this.startCall(out);
    this.call = undefined;
    out.push({ type: "tool_call_error", index: call.index, id: call.id, name: call.name, raw: call.raw, message });
  }
}

/** The arguments object, or a message saying why the text is not one. */
function parseArguments(raw: string): Record<string, unknown> | string {
  if (raw.trim() === "") return "empty tool-call arguments (expected a JSON object)";
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    return `tool-call arguments are not valid JSON: ${(err as Error).message}`;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return `tool-call arguments must be a JSON object, got ${value === null ? "null" : Array.isArray(value) ? "an array" : typeof value}`;
  }
  return value as Record<string, unknown>;
}
