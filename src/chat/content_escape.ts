// Keeps special-token text inside message content from becoming control tokens. Before rendering,
// every string of the messages and tools has each special-token name (and the marker character
// itself) replaced by a marker sequence that contains no special-token text; after rendering, the
// only special-token text left in the prompt is the template's own markup. Splitting there and
// restoring the markers in the text between gives segments whose text is encoded without specials.
// Markers are U+FDD0 (a Unicode noncharacter, never produced by the tokenizer or JSON escaping)
// around a decimal code, so they survive the template, `tojson` included.

const MARK = "\uFDD0";
const MARKED = /\uFDD0(\d+)\uFDD0/g;

export class ContentEscaper {
  private readonly names: string[];
  private readonly find: RegExp;
  private readonly quick: RegExp;

  constructor(specialNames: Iterable<string>) {
    this.names = [...specialNames];
    const alternatives = [...this.names]
      .sort((a, b) => b.length - a.length)
      .map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    this.find = new RegExp([MARK, ...alternatives].join("|"), "g");
    // Every special name starts with one of these characters; most strings hold none of them.
    const firsts = new Set(this.names.map((n) => n[0]!));
    this.quick = new RegExp(`[${[MARK, ...firsts].map((c) => c.replace(/[\]\\^-]/g, "\\$&")).join("")}]`);
  }

  escape(text: string): string {
    if (!this.quick.test(text)) return text;
    return text.replace(this.find, (m) => (m === MARK ? `${MARK}0${MARK}` : `${MARK}${this.names.indexOf(m) + 1}${MARK}`));
  }

  unescape(text: string): string {
    if (!text.includes(MARK)) return text;
    return text.replace(MARKED, (_m, code: string) => {
      const n = Number(code);
      return n === 0 ? MARK : this.names[n - 1]!;
    });
  }

  /** A deep copy with every string (object keys included) escaped. */
  escapeDeep<T>(value: T): T {
    if (typeof value === "string") return this.escape(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.escapeDeep(v)) as T;
    if (value !== null && typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[this.escape(k)] = this.escapeDeep(v);
      return out as T;
    }
    return value;
  }
}
