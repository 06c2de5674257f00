// Prompt ids for a growing conversation in time proportional to what was appended. An agent step
// re-sends the whole history; rendering and tokenizing all of it every step made step 300 of a
// tool chain cost ~100 ms (the Jinja renderer alone ~70–240 ms). When the template renders as the
// built-in K2 renderer (the official K2 Thinking template does), each message renders on its own,
// bounded by special tokens on both sides, so its ids are computed once and reused.
//
// Exactness: the result equals encodePrompt() on the same input. Two things tie a message to what
// precedes it, and both are part of its cache entry: (1) the template keeps reasoning only after
// the newest final answer (a flag per message); (2) Kimi's long-input cuts (a new chunk every 400k
// code points, a cut in any run of 25k same-class characters) are placed over the whole prompt, so
// a message's ids depend on the chunking state it starts in, which encode_chunks.ts carries from
// piece to piece. An appended message never changes the state of the messages before it. Messages
// must not be mutated once encoded (the agent's transcript is append-only): a changed message must
// be a new object.
import { rendersAsBuiltinK2, type ChatTemplate, type TemplateInput } from "./chat_template.js";
import { K2_GENERATION_PROMPT, lastFinalAnswer, renderK2Header, renderK2Message } from "./builtin_k2_template.js";
import { CHUNK_START, chunkCutsFrom, type ChunkState } from "./encode_chunks.js";
import { encodePrompt, escaperFor } from "./prompt_encoder.js";
import { deepSortKeys } from "./python_json.js";
import type { K2Tokenizer, PromptSegment } from "./tokenizer.js";

interface EncodedPiece {
  ids: number[];
  start: ChunkState;
  end: ChunkState;
}

interface MessageEntry extends EncodedPiece {
  keepReasoning: boolean;
}

// Rendered-text → piece fallback for message objects seen for the first time (a rebuilt system
// message, a resumed transcript, the server's per-request messages); bounded in entries and
// characters so a long session cannot grow it without limit.
const TEXT_CACHE_ENTRIES = 4096;
const TEXT_CACHE_CHARS = 4_000_000;

export class IncrementalPromptEncoder {
  private readonly messagewise: boolean;
  private readonly byMessage = new WeakMap<object, MessageEntry>();
  private readonly byText = new Map<string, EncodedPiece>();
  private byTextChars = 0;
  private header: { tools: readonly unknown[] | undefined; firstIsSystem: boolean; piece: EncodedPiece } | undefined;
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
    const header = this.headerPiece(input.tools, messages[0]);
    const out = header.ids.slice();
    let state = header.end;
    let encoded = 0;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      const keepReasoning = i > lastAnswer;
      const key = m !== null && typeof m === "object" ? m : undefined;
      let piece: EncodedPiece | undefined = key !== undefined ? this.byMessage.get(key) : undefined;
      if (piece === undefined || (piece as MessageEntry).keepReasoning !== keepReasoning || !sameState(piece.start, state)) {
        encoded++;
        piece = this.encodeText(renderK2Message(escaperFor(this.tokenizer).escapeDeep(m), keepReasoning), state);
        if (key !== undefined) this.byMessage.set(key, { ...piece, keepReasoning });
      }
      for (let j = 0; j < piece.ids.length; j++) out.push(piece.ids[j]!);
      state = piece.end;
    }
    if (input.addGenerationPrompt) {
      const gen = this.encodeText(K2_GENERATION_PROMPT, state).ids;
      for (let j = 0; j < gen.length; j++) out.push(gen[j]!);
    }
    this.lastEncode = { messagesEncoded: encoded, whole: false };
    return out;
  }

  private headerPiece(tools: readonly unknown[] | undefined, first: unknown): EncodedPiece {
    const firstIsSystem = first !== null && typeof first === "object" && (first as { role?: unknown }).role === "system";
    const h = this.header;
    if (h !== undefined && h.tools === tools && h.firstIsSystem === firstIsSystem) return h.piece;
    const escaped = tools !== undefined ? escaperFor(this.tokenizer).escapeDeep(tools) : undefined;
    const text = renderK2Header(escaped !== undefined ? deepSortKeys(escaped) : undefined, firstIsSystem ? first : undefined);
    const piece = this.encodeText(text, CHUNK_START);
    this.header = { tools, firstIsSystem, piece };
    return piece;
  }

  /** Escaped template output starting in chunking state `start` → its ids and the state after it. */
  private encodeText(rendered: string, start: ChunkState): EncodedPiece {
    const hit = this.byText.get(rendered);
    if (hit !== undefined && sameState(hit.start, start)) return hit;
    const escaper = escaperFor(this.tokenizer);
    const segments = this.tokenizer.splitSpecials(rendered).map((seg) => ("text" in seg ? { text: escaper.unescape(seg.text) } : seg));
    const plain = segments.map((s) => ("text" in s ? s.text : this.tokenizer.specialName(s.special)!)).join("");
    const { cuts, state: end } = chunkCutsFrom(plain, start);
    const ids = cuts.length === 0 ? this.tokenizer.encodeSegments(segments) : this.encodeWithCuts(segments, cuts);
    const piece = { ids, start, end };
    if (this.byText.size >= TEXT_CACHE_ENTRIES || this.byTextChars + rendered.length > TEXT_CACHE_CHARS) {
      this.byText.clear();
      this.byTextChars = 0;
    }
    if (!this.byText.has(rendered)) this.byTextChars += rendered.length;
    this.byText.set(rendered, piece);
    return piece;
  }

  /**
   * Ids of `segments` when the whole prompt's chunking cuts them at `cuts` (offsets in their joined
   * text): text between two specials or cuts is encoded as one piece, as encodeSegments does over
   * the whole prompt; a cut inside a special's name changes nothing. Each piece is shorter than
   * both limits, so encoding it alone places no further cut.
   */
  private encodeWithCuts(segments: readonly PromptSegment[], cuts: readonly number[]): number[] {
    const out: number[] = [];
    const piece = (text: string) => {
      if (text !== "") out.push(...this.tokenizer.encodeSegments([{ text }]));
    };
    let pos = 0;
    let ci = 0;
    for (const seg of segments) {
      if (!("text" in seg)) {
        out.push(seg.special);
        pos += this.tokenizer.specialName(seg.special)!.length;
        continue;
      }
      while (ci < cuts.length && cuts[ci]! <= pos) ci++;
      let from = 0;
      for (; ci < cuts.length && cuts[ci]! < pos + seg.text.length; ci++) {
        piece(seg.text.slice(from, cuts[ci]! - pos));
        from = cuts[ci]! - pos;
      }
      piece(seg.text.slice(from));
      pos += seg.text.length;
    }
    return out;
  }
}

function sameState(a: ChunkState, b: ChunkState): boolean {
  return a.chunkCps === b.chunkCps && a.runLen === b.runLen && a.runIsSpace === b.runIsSpace;
}
