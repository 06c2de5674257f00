// Prompt history kept across sessions: one JSON string per line in the data directory. Appending a
// single line is the write (a torn last line from a crash is skipped on load).
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";

export const HISTORY_LIMIT = 1000;

export class InputHistory {
  private entries: string[];

  constructor(private file: string | null) {
    this.entries = file !== null ? readHistory(file) : [];
  }

  /** Oldest first. */
  get all(): readonly string[] {
    return this.entries;
  }

  add(entry: string): void {
    if (entry.trim() === "" || this.entries[this.entries.length - 1] === entry) return;
    this.entries.push(entry);
    if (this.entries.length > HISTORY_LIMIT) this.entries = this.entries.slice(-HISTORY_LIMIT);
    if (this.file === null) return;
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      appendFileSync(this.file, JSON.stringify(entry) + "\n", "utf8");
    } catch (err) {
      // Losing history must not end the session; say so once and stop writing.
      process.emitWarning(`k2: cannot write input history ${this.file}: ${(err as Error).message}`);
      this.file = null;
    }
  }
}

function readHistory(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const out: string[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    try {
      const v: unknown = JSON.parse(line);
      if (typeof v === "string") out.push(v);
    } catch {
      continue; // a torn line from an interrupted append
    }
  }
  return out.slice(-HISTORY_LIMIT);
}
