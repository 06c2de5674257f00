// The K2 tokenizer: byte-level BPE over the checkpoint's ranks (BpeCore, identical ids to tiktoken's
// Rust core and about 2.5x faster than its WASM build), K2's pre-tokenizer, the 256 reserved
// special ids, and Kimi's cuts of very long inputs. Two encode modes:
//   - encodeWithSpecials: the template's own markup; special-token text becomes special ids.
//   - encodeOrdinary: anything from outside (user text, tool output, files); special-token text
//     stays ordinary text tokens, so content can never inject control tokens.
import { resolve } from "node:path";
import { CheckpointError } from "../errors.js";
import { BpeCore } from "./bpe_core.js";
import { K2_PAT_JS } from "./k2_pretokenizer.js";
import { readTokenizerFiles, type TokenizerFiles } from "./tokenizer_files.js";
import { chunkCuts, splitForEncoding } from "./encode_chunks.js";

/** A run of ids: ordinary text (encoded without specials) or one special token. */
export type PromptSegment = { text: string } | { special: number };

export class K2Tokenizer {
  readonly dir: string;
  /** Mergeable ranks; special ids start here. */
  readonly baseVocabSize: number;
  /** Ranks plus reserved special ids (the embedding table may be larger). */
  readonly vocabSize: number;
  /** `[BOS]`-style begin token id (tokenizer_config bos_token), if named. */
  readonly bosId: number | undefined;
  /** End-of-turn id: tokenizer_config eos_token (`<|im_end|>` for K2 Thinking). */
  readonly eosId: number | undefined;
  /** Every id generation should stop at: `<|im_end|>`, `[EOS]` and the config's eos_token. */
  readonly stopIds: readonly number[];

  private readonly core: BpeCore;
  private readonly nameToId: Map<string, number>;
  private readonly idToName: Map<number, string>;
  private readonly textDecoder = new TextDecoder("utf-8");

  constructor(files: TokenizerFiles) {
    this.dir = files.dir;
    this.baseVocabSize = files.baseVocabSize;
    this.vocabSize = files.baseVocabSize + files.specialNames.size;
    this.idToName = files.specialNames;
    this.nameToId = new Map([...files.specialNames].map(([id, name]) => [name, id]));
    try {
      this.core = new BpeCore(files.ranksText, K2_PAT_JS);
    } catch (err) {
      throw new CheckpointError(`${files.dir}/tiktoken.model`, (err as Error).message, { cause: err });
    }
    this.bosId = files.bosToken !== undefined ? this.nameToId.get(files.bosToken) : undefined;
    this.eosId = files.eosToken !== undefined ? this.nameToId.get(files.eosToken) : undefined;
    const stops = new Set<number>();
    for (const name of ["<|im_end|>", "[EOS]"]) {
      const id = this.nameToId.get(name);
      if (id !== undefined) stops.add(id);
    }
    if (this.eosId !== undefined) stops.add(this.eosId);
    this.stopIds = [...stops];
  }

  /** Encodes outside text: special-token text is ordinary text. */
  encodeOrdinary(text: string): number[] {
    const out: number[] = [];
    for (const chunk of splitForEncoding(text)) this.core.encodeInto(chunk, out);
    return out;
  }

  /** Encodes template markup: special-token text becomes the special ids. */
  encodeWithSpecials(text: string): number[] {
    const out: number[] = [];
    for (const chunk of splitForEncoding(text)) {
      for (const seg of this.splitSpecials(chunk)) {
        if ("text" in seg) this.core.encodeInto(seg.text, out);
        else out.push(seg.special);
      }
    }
    return out;
  }

  encode(text: string, options: { allowSpecial: boolean }): number[] {
    return options.allowSpecial ? this.encodeWithSpecials(text) : this.encodeOrdinary(text);
  }

  /** Encodes segments in order, giving the ids of the concatenated string with exactly these
   *  special tokens: adjacent text segments are encoded as one piece, and Kimi's long-input cuts
   *  are placed as they would be in the whole string (special tokens counted by their names). */
  encodeSegments(segments: readonly PromptSegment[]): number[] {
    const full = segments.map((s) => ("text" in s ? s.text : this.idToName.get(s.special)!)).join("");
    const cuts = chunkCuts(full);
    const out: number[] = [];
    let pending = "";
    const flush = (): void => {
      if (pending.length >= SEGMENT_CACHE_MIN_CHARS) this.encodeCached(pending, out);
      else if (pending !== "") this.core.encodeInto(pending, out);
      pending = "";
    };
    let pos = 0;
    let ci = 0;
    for (const seg of segments) {
      if ("text" in seg) {
        let from = 0;
        for (; ci < cuts.length && cuts[ci]! < pos + seg.text.length; ci++) {
          pending += seg.text.slice(from, cuts[ci]! - pos);
          flush();
          from = cuts[ci]! - pos;
        }
        pending += seg.text.slice(from);
        pos += seg.text.length;
      } else {
        const len = this.idToName.get(seg.special)!.length;
        // A cut inside a markup special changes nothing: the special stays one token.
        while (ci < cuts.length && cuts[ci]! < pos + len) ci++;
        flush();
        out.push(seg.special);
        pos += len;
      }
    }
    flush();
    return out;
  }

  // A conversation is re-encoded every turn, and all but its newest messages encode to the same
  // ids as last time: whole text segments are remembered (looking one up costs a hash, not a BPE).
  private readonly segmentCache = new Map<string, number[]>();
  private segmentCacheChars = 0;
  private encodeCached(text: string, out: number[]): void {
    let ids = this.segmentCache.get(text);
    if (ids === undefined) {
      ids = [];
      this.core.encodeInto(text, ids);
      if (this.segmentCache.size >= SEGMENT_CACHE_ENTRIES || this.segmentCacheChars + text.length > SEGMENT_CACHE_CHARS) {
        this.segmentCache.clear();
        this.segmentCacheChars = 0;
      }
      this.segmentCache.set(text, ids);
      this.segmentCacheChars += text.length;
    }
    for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
  }

  /** Special-token text found in `text`, leftmost first, as tiktoken's encode would split it. */
  splitSpecials(text: string): PromptSegment[] {
    const segs: PromptSegment[] = [];
    const re = this.specialPattern();
    re.lastIndex = 0;
    let last = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (m.index > last) segs.push({ text: text.slice(last, m.index) });
      segs.push({ special: this.nameToId.get(m[0])! });
      last = m.index + m[0].length;
    }
    if (last < text.length) segs.push({ text: text.slice(last) });
    return segs;
  }

  private specialRe: RegExp | undefined;
  private specialPattern(): RegExp {
    // Longest names first so that no name matches as a prefix of a longer one.
    this.specialRe ??= new RegExp(
      [...this.nameToId.keys()]
        .sort((a, b) => b.length - a.length)
        .map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
        .join("|"),
      "g",
    );
    return this.specialRe;
  }

  isSpecial(id: number): boolean {
    return this.idToName.has(id);
  }

  /** The special token's name (e.g. `<|im_end|>`), or undefined for ordinary ids. */
  specialName(id: number): string | undefined {
    return this.idToName.get(id);
  }

  /** The id of a special token by name; throws if the vocabulary lacks it. */
  specialId(name: string): number {
    const id = this.nameToId.get(name);
    if (id === undefined) throw new CheckpointError(this.dir, `the tokenizer has no special token ${name}`);
    return id;
  }

  /** The id of a special token by name, or undefined. */
  findSpecialId(name: string): number | undefined {
    return this.nameToId.get(name);
  }

  /** Raw bytes of an ordinary token; throws RangeError for ids outside the vocabulary. */
  tokenBytes(id: number): Uint8Array {
    if (!Number.isInteger(id) || id < 0 || id >= this.baseVocabSize) {
      throw new RangeError(`token id ${id} is not an ordinary token (0..${this.baseVocabSize - 1})`);
    }
    return this.core.tokenBytes(id)!.slice();
  }

  /** Decodes ids to text; special ids render as their names, invalid UTF-8 as U+FFFD. */
  decode(ids: readonly number[]): string {
    let text = "";
    let run: number[] = [];
    const flush = (): void => {
      if (run.length > 0) text += this.textDecoder.decode(this.core.concatBytes(run));
      run = [];
    };
    for (const id of ids) {
      const name = this.idToName.get(id);
      if (name !== undefined) {
        flush();
        text += name;
      } else {
        if (!Number.isInteger(id) || id < 0 || id >= this.baseVocabSize) {
          throw new RangeError(`token id ${id} is outside the vocabulary (0..${this.vocabSize - 1})`);
        }
        run.push(id);
      }
    }
    flush();
    return text;
  }

}

const SEGMENT_CACHE_MIN_CHARS = 256;
const SEGMENT_CACHE_ENTRIES = 4096;
const SEGMENT_CACHE_CHARS = 16 * 1024 * 1024;

const cache = new Map<string, K2Tokenizer>();

/** Loads (once per directory per process) the tokenizer of a checkpoint or tokenizer directory. */
export function loadTokenizer(dir: string): K2Tokenizer {
  const key = resolve(dir);
  let tok = cache.get(key);
  if (tok === undefined) {
    tok = new K2Tokenizer(readTokenizerFiles(key));
    cache.set(key, tok);
  }
  return tok;
}
