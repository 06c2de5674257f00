// Prompt ids for a growing conversation in time proportional to what was appended. An agent step
// re-sends the whole history; rendering and tokenizing all of it every step made step 300 of a
// tool chain cost ~100 ms (the Jinja renderer alone ~70–190 ms). When the template renders as the
// built-in K2 renderer (the official K2 Thinking template does), each message renders on its own,
// bounded by special tokens on both sides, so its ids never depend on its neighbours and are
// computed once per message.
//
// Exactness: the result equals encodePrompt() on the same input. Two things could break message
// independence and are handled: (1) the template keeps reasoning only after the newest final answer,
// so a message's ids are cached together with that flag; (2) Kimi's long-input cuts (a chunk every
// 400k code points, a cut in any 25k-long run of same-class characters) are placed over the whole
// prompt, so per-message run summaries are combined and, if any cut would happen, the prompt is
// encoded whole instead. Messages must not be mutated after they have been encoded (the agent's
// transcript is append-only); a changed message must be a new object.
import { BuiltinK2Template, rendersAsBuiltinK2, type ChatTemplate, type TemplateInput } from "./chat_template.js";
import { K2_GENERATION_PROMPT, lastFinalAnswer, renderK2Header, renderK2Message } from "./builtin_k2_template.js";
import { isHighSurrogate, isPySpace, MAX_ENCODE_CHARS, MAX_RUN_CHARS } from "./encode_chunks.js";
import { encodePrompt, escaperFor } from "./prompt_encoder.js";
import { deepSortKeys } from "./python_json.js";
import type { K2Tokenizer } from "./tokenizer.js";

/** Runs of whitespace / non-whitespace code points at the ends of a piece of prompt text. */
interface RunSummary {
  codePoints: number;
  firstSpace: boolean;
  firstRun: number;
  lastSpace: boolean;
  lastRun: number;
  longestRun: number;
}

interface EncodedPiece {
  ids: number[];
  runs: RunSummary;
}

interface MessageEntry extends EncodedPiece {
  keepReasoning: boolean;
}

// Rendered-text → piece fallback for message objects seen for the first time (a rebuilt system
// message, a resumed transcript); bounded so a long session cannot grow it without limit.
const TEXT_CACHE_ENTRIES = 4096;

export class IncrementalPromptEncoder {
  private readonly messagewise: boolean;
  private readonly byMessage = new WeakMap<object, MessageEntry>();
  private readonly byText = new Map<string, EncodedPiece>();
  private header: { tools: readonly unknown[] | undefined; firstIsSystem: boolean; piece: EncodedPiece } | undefined;
  private generation: EncodedPiece | undefined;
  /** How the last encode() went, for tests and the agent benchmark. */
  lastEncode: { messagesEncoded: number; whole: boolean } = { messagesEncoded: 0, whole: false };

  constructor(
    private readonly tokenizer: K2Tokenizer,
    private readonly template: ChatTemplate,
  ) {
    this.messagewise = rendersAsBuiltinK2(template);
  }

  encode(input: TemplateInput): number[] {
    if (!this.messagewise) {
      this.lastEncode = { messagesEncoded: input.messages.length, whole: true };
      return encodePrompt(this.tokenizer, this.template, input);
    }
    const messages = input.messages;
    const lastAnswer = lastFinalAnswer(messages);
    const pieces: EncodedPiece[] = [this.headerPiece(input.tools, messages[0])];
    let encoded = 0;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      const keepReasoning = i > lastAnswer;
      const cached = m !== null && typeof m === "object" ? this.byMessage.get(m) : undefined;
      if (cached !== undefined && cached.keepReasoning === keepReasoning) {
        pieces.push(cached);
        continue;
      }
      encoded++;
      const piece = this.encodeText(renderK2Message(escaperFor(this.tokenizer).escapeDeep(m), keepReasoning));
      if (m !== null && typeof m === "object") this.byMessage.set(m, { ...piece, keepReasoning });
      pieces.push(piece);
    }
    if (input.addGenerationPrompt) pieces.push((this.generation ??= this.encodeText(K2_GENERATION_PROMPT)));
    if (wouldCut(pieces)) {
      // Kimi's cuts fall inside some message: only the whole prompt gives the reference ids.
      this.lastEncode = { messagesEncoded: messages.length, whole: true };
      return encodePrompt(this.tokenizer, this.template instanceof BuiltinK2Template ? this.template : new BuiltinK2Template(), input);
    }
    this.lastEncode = { messagesEncoded: encoded, whole: false };
    const out: number[] = [];
    for (const p of pieces) for (let i = 0; i < p.ids.length; i++) out.push(p.ids[i]!);
    return out;
  }

  private headerPiece(tools: readonly unknown[] | undefined, first: unknown): EncodedPiece {
    const firstIsSystem = first !== null && typeof first === "object" && (first as { role?: unknown }).role === "system";
    const h = this.header;
    if (h !== undefined && h.tools === tools && h.firstIsSystem === firstIsSystem) return h.piece;
    const escaped = tools !== undefined ? escaperFor(this.tokenizer).escapeDeep(tools) : undefined;
    const text = renderK2Header(escaped !== undefined ? deepSortKeys(escaped) : undefined, firstIsSystem ? first : undefined);
    const piece = this.encodeText(text);
    this.header = { tools, firstIsSystem, piece };
    return piece;
  }

  /** Escaped template output (markup specials are the only special-token text) → ids + run summary. */
  private encodeText(rendered: string): EncodedPiece {
    const hit = this.byText.get(rendered);
    if (hit !== undefined) return hit;
    const escaper = escaperFor(this.tokenizer);
    const segments = this.tokenizer.splitSpecials(rendered).map((seg) => ("text" in seg ? { text: escaper.unescape(seg.text) } : seg));
    const ids = this.tokenizer.encodeSegments(segments);
    const plain = segments.map((s) => ("text" in s ? s.text : this.tokenizer.specialName(s.special)!)).join("");
    const piece = { ids, runs: summarizeRuns(plain) };
    if (this.byText.size >= TEXT_CACHE_ENTRIES) this.byText.clear();
    this.byText.set(rendered, piece);
    return piece;
  }
}

/** The runs of `text` as encode_chunks.ts counts them: code points, Python's str.isspace(). */
function summarizeRuns(text: string): RunSummary {
  const s: RunSummary = { codePoints: 0, firstSpace: false, firstRun: 0, lastSpace: false, lastRun: 0, longestRun: 0 };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0 && isHighSurrogate(text.charCodeAt(i - 1))) continue;
    const space = isPySpace(c);
    if (s.codePoints === 0 || space !== s.lastSpace) {
      s.lastSpace = space;
      s.lastRun = 1;
    } else s.lastRun++;
    s.codePoints++;
    // Still inside the first run.
    if (s.codePoints === s.lastRun) {
      s.firstSpace = space;
      s.firstRun = s.lastRun;
    }
    if (s.lastRun > s.longestRun) s.longestRun = s.lastRun;
  }
  return s;
}

/** Whether chunkCuts() of the concatenated pieces would place any cut. */
function wouldCut(pieces: readonly EncodedPiece[]): boolean {
  let codePoints = 0;
  let runSpace = false;
  let run = 0;
  for (const { runs } of pieces) {
    if (runs.codePoints === 0) continue;
    codePoints += runs.codePoints;
    if (runs.longestRun > MAX_RUN_CHARS) return true;
    const joined = run > 0 && runSpace === runs.firstSpace ? run + runs.firstRun : runs.firstRun;
    if (joined > MAX_RUN_CHARS) return true;
    if (runs.firstRun === runs.codePoints) {
      run = joined;
      runSpace = runs.firstSpace;
    } else {
      run = runs.lastRun;
      runSpace = runs.lastSpace;
    }
  }
  return codePoints > MAX_ENCODE_CHARS;
}
