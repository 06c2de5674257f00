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
  // Fast path: a string this short (in UTF-16 units, ≥ code points) cannot trigger either cut.
  if (text.length <= MAX_RUN_CHARS) return [text];
  const out: string[] = [];
  let chunkStart = 0; // UTF-16 index where the current 400k-code-point chunk starts
  let chunkCps = 0;
  let i = 0;
  while (i <= text.length) {
    if (i === text.length || chunkCps === MAX_ENCODE_CHARS) {
      splitRuns(text, chunkStart, i, out);
      if (i === text.length) break;
      chunkStart = i;
      chunkCps = 0;
    }
    const cp = text.codePointAt(i)!;
    i += cp > 0xffff ? 2 : 1;
    chunkCps++;
  }
  return out;
}

function splitRuns(text: string, start: number, end: number, out: string[]): void {
  if (start === end) {
    out.push("");
    return;
  }
  let sliceStart = start;
  let runLen = 0;
  let runIsSpace = isPySpace(text.codePointAt(start)!);
  let i = start;
  while (i < end) {
    const cp = text.codePointAt(i)!;
    const space = isPySpace(cp);
    if (space !== runIsSpace) {
      runLen = 1;
      runIsSpace = space;
    } else {
      runLen++;
      if (runLen > MAX_RUN_CHARS) {
        out.push(text.slice(sliceStart, i));
        sliceStart = i;
        runLen = 1;
      }
    }
    i += cp > 0xffff ? 2 : 1;
  }
  out.push(text.slice(sliceStart, end));
}
