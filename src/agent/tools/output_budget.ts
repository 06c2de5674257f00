// Caps what a tool hands back to the model. The note says how much was cut and how to get the
// rest, so the model can page instead of guessing.

export function truncateForModel(text: string, maxChars: number, howToGetMore: string): string {
  if (text.length <= maxChars) return text;
  const head = text.slice(0, maxChars);
  const cut = head.lastIndexOf("\n");
  const shown = cut > maxChars * 0.5 ? head.slice(0, cut) : head;
  const shownLines = shown.split("\n").length;
  const totalLines = text.split("\n").length;
  return `${shown}\n[output truncated: showing ${shown.length} of ${text.length} characters (${shownLines} of ${totalLines} lines). ${howToGetMore}]`;
}

/** Keeps the start and the end of a long stream (the end of a build log is where the error is). */
export function headAndTail(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const half = Math.floor(maxChars / 2);
  const omitted = text.length - 2 * half;
  return `${text.slice(0, half)}\n[... ${omitted} characters omitted ...]\n${text.slice(text.length - half)}`;
}
