// Byte-level BPE by rank, as tiktoken's core does it, in plain JavaScript: the pre-tokenizer runs
// as a V8 regex (JIT-compiled, several times faster than fancy-regex in WASM), then each piece is
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
}
