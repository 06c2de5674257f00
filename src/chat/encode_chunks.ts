// Kimi's tokenizer (tokenization_kimi.py, after Llama 3's) never hands tiktoken more than 400,000
// characters at once, nor a run of more than 25,000 consecutive whitespace or non-whitespace
// characters: the Rust BPE is quadratic in the length of one pre-token. Those cuts change the ids of
// such inputs, so we make the same cuts to give the same ids. Lengths count code points, and
// "whitespace" is Python's str.isspace(), as in the reference.

const MAX_ENCODE_CHARS = 400_000;
const MAX_RUN_CHARS = 25_000;

// Python str.isspace(): Unicode White_Space plus the separators U+001C..U+001F, minus nothing JS
// needs; JS's \s differs (it has U+FEFF, lacks U+001C..U+001F), hence the explicit set.
function isPySpace(cp: number): boolean {
  return (
    (cp >= 0x09 && cp <= 0x0d) ||
    (cp >= 0x1c && cp <= 0x20) ||
    cp === 0x85 ||
    cp === 0xa0 ||
    cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000
  );
}

/** The substrings tokenization_kimi.py encodes separately, in order; their concatenation is `text`. */
export function splitForEncoding(text: string): string[] {
  const cuts = chunkCuts(text);
  if (cuts.length === 0) return [text];
  const out: string[] = [];
  let from = 0;
  for (const at of cuts) {
    out.push(text.slice(from, at));
    from = at;
  }
  out.push(text.slice(from));
  return out;
}

/** UTF-16 offsets (ascending, all > 0 and < text.length) where Kimi's tokenizer starts a new chunk. */
export function chunkCuts(text: string): number[] {
  // Fast path: a string this short (in UTF-16 units, ≥ code points) cannot trigger either cut.
  if (text.length <= MAX_RUN_CHARS) return [];
  return chunkCutsFrom(text, CHUNK_START).cuts;
}

/** Where the chunking of a string stands after a prefix of it: code points in the current chunk, and the current run. */
export interface ChunkState {
  readonly chunkCps: number;
  readonly runLen: number;
  readonly runIsSpace: boolean;
}

export const CHUNK_START: ChunkState = { chunkCps: 0, runLen: 0, runIsSpace: false };

/**
 * The cuts chunkCuts() would place inside `text` when it continues a longer string whose
 * chunking so far is `state` (offsets relative to `text`), and the state after it. Chaining pieces
 * this way gives exactly the cuts of their concatenation.
 */
export function chunkCutsFrom(text: string, state: ChunkState): { cuts: number[]; state: ChunkState } {
  const cuts: number[] = [];
  let { runLen, runIsSpace, chunkCps } = state;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A low surrogate continues the code point its high surrogate started (never whitespace).
    if (c >= 0xdc00 && c <= 0xdfff && i > 0 && isHighSurrogate(text.charCodeAt(i - 1))) continue;
    if (chunkCps === MAX_ENCODE_CHARS) {
      cuts.push(i);
      chunkCps = 0;
      runLen = 0;
    }
    chunkCps++;
    const space = isPySpace(c);
    if (runLen === 0 || space !== runIsSpace) {
      runLen = 1;
      runIsSpace = space;
    } else if (++runLen > MAX_RUN_CHARS) {
      cuts.push(i);
      runLen = 1;
    }
  }
  return { cuts, state: { chunkCps, runLen, runIsSpace } };
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
