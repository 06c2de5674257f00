// OpenAI `stop` strings over streamed text. Text that might be the start of a stop string is held
// back until the next chunk decides it, so a match split across chunks is never partly sent.
export class StopSequenceMatcher {
  private pending = "";
  private done = false;

  constructor(private readonly stops: readonly string[]) {}

  get stopped(): boolean {
    return this.done;
  }

  /** Returns the text safe to emit now; after a match, `stopped` is true and later text is dropped. */
  push(text: string): string {
    if (this.done) return "";
    if (this.stops.length === 0) return text;
    const buf = this.pending + text;
    let cut = -1;
    for (const s of this.stops) {
      const i = buf.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      this.done = true;
      this.pending = "";
      return buf.slice(0, cut);
    }
    const hold = this.heldSuffix(buf);
    this.pending = buf.slice(buf.length - hold);
    return buf.slice(0, buf.length - hold);
  }

  /** The held-back tail, when the stream ends without completing a match. */
  flush(): string {
    const rest = this.done ? "" : this.pending;
    this.pending = "";
    return rest;
  }

  /** Length of the longest suffix of `buf` that is a proper prefix of some stop string. */
  private heldSuffix(buf: string): number {
    let best = 0;
    for (const s of this.stops) {
      for (let k = Math.min(s.length - 1, buf.length); k > best; k--) {
        if (buf.endsWith(s.slice(0, k))) {
          best = k;
          break;
        }
      }
    }
    return best;
  }
}
