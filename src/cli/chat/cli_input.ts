// Reading the inputs of the tokenizer commands: a model directory, stdin, JSON files. Every failure
// names the argument or file at fault.
import { readFileSync, statSync } from "node:fs";
import { CheckpointError, UsageError } from "../../errors.js";

export function requireDirectory(dir: string, flag: string): void {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new CheckpointError(dir, `${flag}: no such directory`);
  }
  if (!isDir) throw new CheckpointError(dir, `${flag}: not a directory`);
}

/** All of stdin as UTF-8; refuses to wait on an interactive terminal. */
export async function readStdinText(what: string): Promise<string> {
  if (process.stdin.isTTY === true) throw new UsageError(`${what}: nothing piped on stdin`);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return decodeUtf8(Buffer.concat(chunks), "stdin");
}

export function readTextFile(path: string, flag: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new UsageError(`${flag} ${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`);
  }
  return decodeUtf8(bytes, `${flag} ${path}`);
}

export function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${where}: invalid JSON: ${(err as Error).message}`);
  }
}

function decodeUtf8(bytes: Buffer, where: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new UsageError(`${where}: not valid UTF-8`);
  }
}

/** Writes to stdout and resolves once the data is handed to the OS. */
export function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (err) => (err ? reject(err) : resolve()));
  });
}
