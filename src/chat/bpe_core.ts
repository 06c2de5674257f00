// Byte-level BPE by rank, as tiktoken's core does it, in plain JavaScript: the pre-tokenizer runs
// as a V8 regex (JIT-compiled; faster than fancy-regex in WASM), then each piece's UTF-8 bytes are
// merged pair by pair, lowest rank first, leftmost on ties. The vocabulary lives in typed arrays
// (all token bytes in one buffer, an open-addressing hash table over them) so loading 163,584 ranks
// allocates no per-token objects; pieces seen before come from a cache.
// Identity with tiktoken is checked by tests (every code point's class, random multi-script text,
// long pieces) and by the benchmark.

const NO_RANK = 0x7fffffff;
const CACHE_LIMIT = 65_536;
/** Pieces longer than this many bytes merge through the heap. */
const LONG_PIECE = 256;
/** Heap keys are rank * KEY_SPAN + start; starts stay below it (a piece is at most ~200 kB). */
const KEY_SPAN = 2 ** 24;

const BASE64 = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) BASE64["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".charCodeAt(i)] = i;

export class BpeCore {
  /** All tokens' bytes, back to back; token r is bytes[offsets[r] .. offsets[r+1]). */
  private readonly bytes: Uint8Array;
  private readonly offsets: Uint32Array;
  /** Open addressing: slot → rank, or -1. */
  private readonly table: Int32Array;
  private readonly mask: number;
  private readonly pattern: RegExp;
  private readonly cache = new Map<string, number[]>();
  private readonly utf8 = new TextEncoder();
  private piece = new Uint8Array(1024);

  /** @param ranksText tiktoken.model text: `base64 rank` per line, ranks 0..n-1 in order.
   *  Throws an Error naming the line when the text is not that. */
  constructor(ranksText: string, patternJs: string) {
    const bytes = new Uint8Array(ranksText.length); // decoded base64 is always shorter
    const offsets: number[] = [0];
    let used = 0;
    let start = 0;
    let line = 0;
    while (start < ranksText.length) {
      let end = ranksText.indexOf("\n", start);
      if (end === -1) end = ranksText.length;
      line++;
      const stop = ranksText.charCodeAt(end - 1) === 13 ? end - 1 : end;
      if (stop > start) {
        const rank = offsets.length - 1;
        const space = ranksText.indexOf(" ", start);
        if (space === -1 || space >= stop || !digitsEqual(ranksText, space + 1, stop, rank)) {
          throw new Error(`line ${line}: expected "<base64 token> ${rank}" (ranks must be contiguous from 0)`);
        }
        const n = decodeBase64(ranksText, start, space, bytes, used);
        if (n <= 0) throw new Error(`line ${line}: the token is not valid base64`);
        used += n;
        offsets.push(used);
      }
      start = end + 1;
    }
    this.bytes = bytes.subarray(0, used);
    this.offsets = Uint32Array.from(offsets);
    const count = offsets.length - 1;
    let size = 1024;
    while (size < count * 2) size *= 2;
    this.table = new Int32Array(size).fill(-1);
    this.mask = size - 1;
    for (let r = 0; r < count; r++) {
      const a = this.offsets[r]!;
      const b = this.offsets[r + 1]!;
      let slot = hashRange(this.bytes, a, b) & this.mask;
      for (;;) {
        const other = this.table[slot]!;
        if (other === -1) break;
        if (this.sameBytes(other, this.bytes, a, b)) throw new Error(`token ${r} repeats token ${other}`);
        slot = (slot + 1) & this.mask;
      }
      this.table[slot] = r;
    }
    const one = new Uint8Array(1);
    for (let b = 0; b < 256; b++) {
      one[0] = b;
      // Every text must be encodable: each single byte needs a rank of its own.
      if (this.rankOf(one, 0, 1) === NO_RANK) throw new Error(`the vocabulary has no token for the single byte 0x${b.toString(16).padStart(2, "0")}`);
    }
    this.pattern = new RegExp(patternJs, "gv");
  }

  get size(): number {
    return this.offsets.length - 1;
  }

  /** Ordinary BPE of `text` (no special tokens), appended to `out`. */
  encodeInto(text: string, out: number[]): void {
    const re = this.pattern;
    re.lastIndex = 0;
    let from = 0;
    // test() instead of exec(): no match array per piece. Every alternative consumes at least one
    // character and together they match any character, so pieces tile the text.
    while (re.test(text)) {
      const piece = text.slice(from, re.lastIndex);
      from = re.lastIndex;
      const cached = this.cache.get(piece);
      if (cached !== undefined) {
        for (let i = 0; i < cached.length; i++) out.push(cached[i]!);
        continue;
      }
      const ids = this.encodePiece(this.pieceBytes(piece));
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(piece, ids);
      for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
    }
  }

  /** The bytes of a rank (a view: do not modify), or undefined outside the vocabulary. */
  tokenBytes(id: number): Uint8Array | undefined {
    if (!(id >= 0 && id < this.offsets.length - 1)) return undefined;
    return this.bytes.subarray(this.offsets[id]!, this.offsets[id + 1]!);
  }

  /** The bytes of a run of ranks (all must be valid). */
  concatBytes(ids: readonly number[]): Uint8Array {
    let n = 0;
    for (const id of ids) n += this.offsets[id + 1]! - this.offsets[id]!;
    const out = new Uint8Array(n);
    const bytes = this.bytes;
    let at = 0;
    for (const id of ids) {
      // Tokens are a few bytes long: a plain loop beats creating a subarray per token.
      for (let i = this.offsets[id]!, b = this.offsets[id + 1]!; i < b; i++) out[at++] = bytes[i]!;
    }
    return out;
  }

  // UTF-8 of a piece into the reusable buffer; returns its length.
  private pieceBytes(piece: string): number {
    if (this.piece.length < piece.length * 3) this.piece = new Uint8Array(piece.length * 3);
    const buf = this.piece;
    for (let i = 0; i < piece.length; i++) {
      const c = piece.charCodeAt(i);
      if (c > 0x7f) return this.utf8.encodeInto(piece, buf).written;
      buf[i] = c;
    }
    return piece.length;
  }

  private rankOf(buf: Uint8Array, a: number, b: number): number {
    let slot = hashRange(buf, a, b) & this.mask;
    for (;;) {
      const r = this.table[slot]!;
      if (r === -1) return NO_RANK;
      if (this.sameBytes(r, buf, a, b)) return r;
      slot = (slot + 1) & this.mask;
    }
  }

  private sameBytes(rank: number, buf: Uint8Array, a: number, b: number): boolean {
    const s = this.offsets[rank]!;
    if (this.offsets[rank + 1]! - s !== b - a) return false;
    const bytes = this.bytes;
    for (let i = 0; i < b - a; i++) if (bytes[s + i] !== buf[a + i]) return false;
    return true;
  }

  private encodePiece(n: number): number[] {
    const buf = this.piece;
    const whole = this.rankOf(buf, 0, n);
    if (whole !== NO_RANK) return [whole];
    if (n > LONG_PIECE) return this.encodeLongPiece(n);
    // starts[k] is where part k begins; pair[k] the rank of merging parts k and k+1.
    const starts: number[] = new Array(n + 1);
    const pair: number[] = new Array(n);
    for (let i = 0; i <= n; i++) starts[i] = i;
    for (let i = 0; i < n - 1; i++) pair[i] = this.rankOf(buf, i, i + 2);
    pair[n - 1] = NO_RANK;
    let parts = n; // live entries in starts[0..parts] (starts[parts] === n)
    for (;;) {
      let min = NO_RANK;
      let at = -1;
      for (let k = 0; k < parts - 1; k++) {
        if (pair[k]! < min) {
          min = pair[k]!;
          at = k;
        }
      }
      if (at === -1) break;
      // Merge parts `at` and `at+1`: drop the boundary between them.
      starts.splice(at + 1, 1);
      pair.splice(at + 1, 1);
      parts--;
      pair[at] = at + 2 <= parts ? this.rankOf(buf, starts[at]!, starts[at + 2]!) : NO_RANK;
      if (at > 0) pair[at - 1] = this.rankOf(buf, starts[at - 1]!, starts[at + 1]!);
    }
    const ids: number[] = new Array(parts);
    for (let k = 0; k < parts; k++) ids[k] = this.rankOf(buf, starts[k]!, starts[k + 1]!);
    return ids;
  }

  // The same merges in O(n log n) for long pieces (minified code, base64 blobs), where the scan
  // above is quadratic: parts form a linked list, candidate pairs sit in a min-heap keyed by
  // (rank, start) so the lowest rank wins and ties go to the leftmost pair, as in the scan. A heap
  // entry is stale once its part is merged away or its pair's rank changed; merging only ever
  // lengthens a pair's bytes, so a part never gets an old rank back and the check is exact.
  private encodeLongPiece(n: number): number[] {
    const buf = this.piece;
    const next = new Int32Array(n + 1);
    const prev = new Int32Array(n + 1);
    const pair = new Int32Array(n).fill(NO_RANK);
    const alive = new Uint8Array(n + 1).fill(1);
    const heap = new MinHeap();
    for (let i = 0; i <= n; i++) {
      next[i] = i + 1;
      prev[i] = i - 1;
    }
    const rankAt = (i: number): number => {
      const j = next[i]!;
      return j >= n ? NO_RANK : this.rankOf(buf, i, next[j]!);
    };
    for (let i = 0; i < n - 1; i++) {
      pair[i] = rankAt(i);
      if (pair[i] !== NO_RANK) heap.push(pair[i]! * KEY_SPAN + i);
    }
    while (heap.size > 0) {
      const key = heap.pop();
      const i = key % KEY_SPAN;
      const rank = (key - i) / KEY_SPAN;
      if (alive[i] === 0 || pair[i] !== rank) continue;
      const j = next[i]!;
      alive[j] = 0;
      next[i] = next[j]!;
      prev[next[j]!] = i;
      pair[i] = rankAt(i);
      if (pair[i] !== NO_RANK) heap.push(pair[i]! * KEY_SPAN + i);
      const p = prev[i]!;
      if (p >= 0) {
        pair[p] = rankAt(p);
        if (pair[p] !== NO_RANK) heap.push(pair[p]! * KEY_SPAN + p);
      }
    }
    const ids: number[] = [];
    for (let i = 0; i < n; i = next[i]!) ids.push(this.rankOf(buf, i, next[i]!));
    return ids;
  }
}

// FNV-1a over a byte range.
function hashRange(buf: Uint8Array, a: number, b: number): number {
  let h = 0x811c9dc5;
  for (let i = a; i < b; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h >>> 0;
}

// Whether text[a..b) is the decimal number `n` (no sign, no leading zeros beyond "0").
function digitsEqual(text: string, a: number, b: number, n: number): boolean {
  if (b <= a || b - a > 10) return false;
  let v = 0;
  for (let i = a; i < b; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    v = v * 10 + d;
  }
  return v === n && (b - a === 1 || text.charCodeAt(a) !== 48);
}

// Decodes standard base64 text[a..b) into out[at..]; returns the byte count, or -1 if malformed.
function decodeBase64(text: string, a: number, b: number, out: Uint8Array, at: number): number {
  let end = b;
  while (end > a && text.charCodeAt(end - 1) === 61) end--; // '=' padding
  if ((b - a) % 4 !== 0 || b - end > 2) return -1;
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (let i = a; i < end; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? BASE64[c]! : -1;
    if (v < 0) return -1;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at + n++] = (acc >> bits) & 0xff;
    }
  }
  return n;
}

class MinHeap {
  private items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(key: number): void {
    const a = this.items;
    let k = a.length;
    a.push(key);
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (a[parent]! <= key) break;
      a[k] = a[parent]!;
      k = parent;
    }
    a[k] = key;
  }

  pop(): number {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let k = 0;
      for (;;) {
        const l = 2 * k + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && a[r]! < a[l]! ? r : l;
        if (a[c]! >= last) break;
        a[k] = a[c]!;
        k = c;
      }
      a[k] = last;
    }
    return top;
  }
}
