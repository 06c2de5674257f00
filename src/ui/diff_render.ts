// A unified diff as coloured terminal lines, cut to a height with a "… N more lines" footer.
import type { AnsiStyle } from "./ansi_style.js";

export function renderDiff(diff: string, st: AnsiStyle, maxLines: number): string[] {
  const lines = diff.replace(/\n$/, "").split("\n").filter((l) => !l.startsWith("Index: ") && !/^={10,}$/.test(l));
  const out = lines.slice(0, maxLines).map((l) => {
    if (l.startsWith("+++") || l.startsWith("---")) return st.bold(l);
    if (l.startsWith("+")) return st.green(l);
    if (l.startsWith("-")) return st.red(l);
    if (l.startsWith("@@")) return st.cyan(l);
    return st.dim(l);
  });
  if (lines.length > maxLines) out.push(st.gray(`… ${lines.length - maxLines} more lines`));
  return out;
}

/** Lines added and removed, for the card's summary. */
export function diffCounts(diff: string): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const l of diff.split("\n")) {
    if (l.startsWith("+") && !l.startsWith("+++")) added++;
    else if (l.startsWith("-") && !l.startsWith("---")) removed++;
  }
  return { added, removed };
}
