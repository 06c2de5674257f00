// Byte-level BPE by rank, as tiktoken's core does it, in plain JavaScript: the pre-tokenizer runs
// as a V8 regex (JIT-compiled; faster than fancy-regex in WASM), then each piece is
// merged pair by pair, lowest rank first, leftmost on ties. Byte strings are "binary strings"
// (one char per byte, 0..255) so Map lookups stay cheap; pieces seen before come from a cache.
// Identity with tiktoken is checked by tests (random multi-script text) and by the benchmark.

const NO_RANK = 0x7fffffff;
const CACHE_LIMIT = 65_536;

export class BpeCore {
  /** byte string → rank */
  private readonly ranks: Map<string, number>;
  /** rank → byte string */
  private readonly tokens: string[];
  private readonly pattern: RegExp;
  private readonly cache = new Map<string, number[]>();
  private readonly utf8 = new TextEncoder();
  private scratch = new Uint8Array(1024);

  /** @param ranksText tiktoken.model text: `base64 rank` per line, ranks 0..n-1 in order.
   *  Throws an Error naming the line when the text is not that. */
  constructor(ranksText: string, patternJs: string) {
    this.ranks = new Map();
    this.tokens = [];
    let start = 0;
    let line = 0;
    while (start < ranksText.length) {
      let end = ranksText.indexOf("\n", start);
      if (end === -1) end = ranksText.length;
      line++;
      const stop = ranksText.charCodeAt(end - 1) === 13 ? end - 1 : end;
      if (stop > start) {
        const space = ranksText.indexOf(" ", start);
        const rank = space === -1 || space >= stop ? NaN : Number(ranksText.slice(space + 1, stop));
        if (rank !== this.tokens.length) {
          throw new Error(`line ${line}: expected "<base64 token> ${this.tokens.length}" (ranks must be contiguous from 0)`);
        }
        let bytes: string;
        try {
          // atob yields exactly the byte string we key on, and is the fastest decoder in Node.
          bytes = atob(ranksText.slice(start, space));
        } catch {
          throw new Error(`line ${line}: the token is not valid base64`);
        }
        if (bytes === "" || this.ranks.has(bytes)) throw new Error(`line ${line}: empty or repeated token`);
        this.ranks.set(bytes, rank);
        this.tokens.push(bytes);
      }
      start = end + 1;
    }
    for (let b = 0; b < 256; b++) {
      // Every text must be encodable: each single byte needs a rank of its own.
      if (!this.ranks.has(String.fromCharCode(b))) throw new Error(`the vocabulary has no token for the single byte 0x${b.toString(16).padStart(2, "0")}`);
    }
    this.pattern = new RegExp(patternJs, "gv");
  }

  get size(): number {
    return this.tokens.length;
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
      const ids = this.encodePiece(this.toBytes(piece));
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(piece, ids);
      for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
    }
  }

  /** The byte string of a rank (undefined outside the vocabulary). */
  tokenByteString(id: number): string | undefined {
    return this.tokens[id];
  }

  // UTF-8 bytes of a piece as a binary string; ASCII pieces already are one.
  private toBytes(piece: string): string {
    let ascii = true;
    for (let i = 0; i < piece.length; i++) {
      if (piece.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) return piece;
    if (this.scratch.length < piece.length * 3) this.scratch = new Uint8Array(piece.length * 3);
    const n = this.utf8.encodeInto(piece, this.scratch).written;
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.scratch[i]!);
    return s;
  }

  private encodePiece(bytes: string): number[] {
    const whole = this.ranks.get(bytes);
    if (whole !== undefined) return [whole];
    if (bytes.length > LONG_PIECE) return this.encodeLongPiece(bytes);
    const ranks = this.ranks;
    const n = bytes.length;
    // starts[k] is where part k begins; pair[k] the rank of merging parts k and k+1.
    const starts: number[] = new Array(n + 1);
    const pair: number[] = new Array(n);
    for (let i = 0; i <= n; i++) starts[i] = i;
    for (let i = 0; i < n - 1; i++) pair[i] = ranks.get(bytes.slice(i, i + 2)) ?? NO_RANK;
    pair[n - 1] = NO_RANK;
    let parts = n; // live entries in starts[0..parts] (starts[parts] === n)
    const rankOf = (k: number): number => (k + 2 <= parts ? (ranks.get(bytes.slice(starts[k]!, starts[k + 2]!)) ?? NO_RANK) : NO_RANK);
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
      pair[at] = rankOf(at);
      if (at > 0) pair[at - 1] = rankOf(at - 1);
    }
    const ids: number[] = new Array(parts);
    for (let k = 0; k < parts; k++) ids[k] = ranks.get(bytes.slice(starts[k]!, starts[k + 1]!))!;
    return ids;
  }

  // The same merges in O(n log n) for long pieces (minified code, base64 blobs), where the scan
  // above is quadratic: parts form a linked list, candidate pairs sit in a min-heap keyed by
  // (rank, start) so the lowest rank wins and ties go to the leftmost pair, as in the scan. A heap
  // entry is stale once its part is merged away or its pair's rank changed; merging only ever
  // lengthens a pair's bytes, so a part never gets an old rank back and the check is exact.
  private encodeLongPiece(bytes: string): number[] {
    const ranks = this.ranks;
    const n = bytes.length;
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
      if (j >= n) return NO_RANK;
      return ranks.get(bytes.slice(i, next[j]!)) ?? NO_RANK;
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
    for (let i = 0; i < n; i = next[i]!) ids.push(ranks.get(bytes.slice(i, next[i]!))!);
    return ids;
  }
}

/** Pieces longer than this many bytes merge through the heap. */
const LONG_PIECE = 256;
/** Heap keys are rank * KEY_SPAN + start; starts stay below it (a piece is at most ~100 kB). */
const KEY_SPAN = 2 ** 24;

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
