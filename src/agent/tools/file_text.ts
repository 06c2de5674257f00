// Reading repository files as text for tools: size cap, binary detection.
import { open, stat } from "node:fs/promises";
import { ToolInputError } from "./tool.js";

export const MAX_TEXT_FILE_BYTES = 10 * 1024 * 1024;

/** A NUL byte in the first 8 KiB is git's own test for "binary". */
export function looksBinary(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 8192);
  for (let i = 0; i < n; i++) if (bytes[i] === 0) return true;
  return false;
}

export async function readTextFile(abs: string, shownPath: string): Promise<string> {
  let info;
  try {
    info = await stat(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new ToolInputError(`file not found: ${shownPath}`);
    throw new ToolInputError(`cannot read ${shownPath}: ${(err as Error).message}`);
  }
  if (info.isDirectory()) throw new ToolInputError(`${shownPath} is a directory; use list_dir to see its entries`);
  if (info.size > MAX_TEXT_FILE_BYTES) {
    throw new ToolInputError(`${shownPath} is ${info.size} bytes, over the ${MAX_TEXT_FILE_BYTES}-byte limit; use grep to find the part you need`);
  }
  const fh = await open(abs, "r");
  try {
    const bytes = await fh.readFile();
    if (looksBinary(bytes)) throw new ToolInputError(`${shownPath} is a binary file (${info.size} bytes); it cannot be shown as text`);
    return bytes.toString("utf8");
  } finally {
    await fh.close();
  }
}
