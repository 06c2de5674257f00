// Turns a stream of token ids into text without ever emitting half a UTF-8 character: a token may
// end in the middle of a multi-byte character (emoji, CJK), so bytes are held back until the
// character completes. Special tokens render as their names and flush any held-back bytes first.
import type { K2Tokenizer } from "./tokenizer.js";

export class StreamDecoder {
  private readonly utf8 = new TextDecoder("utf-8");

  constructor(private readonly tokenizer: K2Tokenizer) {}

  /** Text completed by this token ("" while a character is still incomplete). */
  push(id: number): string {
    const name = this.tokenizer.specialName(id);
    if (name !== undefined) return this.flush() + name;
    // TextDecoder in stream mode keeps an incomplete trailing sequence for the next call and turns
    // bytes that can never complete into U+FFFD, exactly like a final decode would.
    return this.utf8.decode(this.tokenizer.tokenBytes(id), { stream: true });
  }

  /** Emits whatever is held back (an incomplete character becomes U+FFFD) and resets. */
  flush(): string {
    return this.utf8.decode();
  }
}
