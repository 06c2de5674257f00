// The prompt being typed: text plus a cursor, edited by pure functions (easy to test, and the
// input component stays a thin key → edit mapping).

export interface InputBuffer {
  readonly text: string;
  /** Cursor as an index into `text` (UTF-16 units, kept on code-point boundaries). */
  readonly cursor: number;
}

export const EMPTY_INPUT: InputBuffer = { text: "", cursor: 0 };

export function fromText(text: string): InputBuffer {
  return { text, cursor: text.length };
}

export function insert(b: InputBuffer, s: string): InputBuffer {
  const clean = s.replace(/\r\n?/g, "\n");
  return { text: b.text.slice(0, b.cursor) + clean + b.text.slice(b.cursor), cursor: b.cursor + clean.length };
}

function prevBoundary(text: string, i: number): number {
  if (i <= 0) return 0;
  const code = text.charCodeAt(i - 1);
  return code >= 0xdc00 && code <= 0xdfff && i >= 2 ? i - 2 : i - 1;
}

function nextBoundary(text: string, i: number): number {
  if (i >= text.length) return text.length;
  const code = text.charCodeAt(i);
  return code >= 0xd800 && code <= 0xdbff && i + 2 <= text.length ? i + 2 : i + 1;
}

export function backspace(b: InputBuffer): InputBuffer {
  if (b.cursor === 0) return b;
  const at = prevBoundary(b.text, b.cursor);
  return { text: b.text.slice(0, at) + b.text.slice(b.cursor), cursor: at };
}

export function deleteForward(b: InputBuffer): InputBuffer {
  if (b.cursor >= b.text.length) return b;
  return { text: b.text.slice(0, b.cursor) + b.text.slice(nextBoundary(b.text, b.cursor)), cursor: b.cursor };
}

export function left(b: InputBuffer): InputBuffer {
  return { ...b, cursor: prevBoundary(b.text, b.cursor) };
}

export function right(b: InputBuffer): InputBuffer {
  return { ...b, cursor: nextBoundary(b.text, b.cursor) };
}

export function lineStart(b: InputBuffer): InputBuffer {
  return { ...b, cursor: b.text.lastIndexOf("\n", b.cursor - 1) + 1 };
}

export function lineEnd(b: InputBuffer): InputBuffer {
  const nl = b.text.indexOf("\n", b.cursor);
  return { ...b, cursor: nl === -1 ? b.text.length : nl };
}

/** Deletes from the line start to the cursor (Ctrl+U). */
export function killToLineStart(b: InputBuffer): InputBuffer {
  const start = b.text.lastIndexOf("\n", b.cursor - 1) + 1;
  return { text: b.text.slice(0, start) + b.text.slice(b.cursor), cursor: start };
}

/** Deletes the word before the cursor (Ctrl+W). */
export function killWordBack(b: InputBuffer): InputBuffer {
  const before = b.text.slice(0, b.cursor).replace(/\S+\s*$/, "");
  return { text: before + b.text.slice(b.cursor), cursor: before.length };
}

export function onFirstLine(b: InputBuffer): boolean {
  return b.text.lastIndexOf("\n", b.cursor - 1) === -1;
}

export function onLastLine(b: InputBuffer): boolean {
  return b.text.indexOf("\n", b.cursor) === -1;
}

/** Moves the cursor one line up or down, keeping the column where the line is long enough. */
export function verticalMove(b: InputBuffer, dir: -1 | 1): InputBuffer {
  const start = b.text.lastIndexOf("\n", b.cursor - 1) + 1;
  const col = b.cursor - start;
  if (dir === -1) {
    if (start === 0) return b;
    const prevStart = b.text.lastIndexOf("\n", start - 2) + 1;
    return { ...b, cursor: Math.min(prevStart + col, start - 1) };
  }
  const nl = b.text.indexOf("\n", b.cursor);
  if (nl === -1) return b;
  const nextEnd = b.text.indexOf("\n", nl + 1);
  return { ...b, cursor: Math.min(nl + 1 + col, nextEnd === -1 ? b.text.length : nextEnd) };
}
