// Piped input for one-shots, read in full. A stdin that cannot be read (a directory, a closed
// descriptor) or is not UTF-8 text is a usage error with one clear line.
import { fstatSync } from "node:fs";
import { UsageError } from "../../errors.js";

export async function readPipedStdin(stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  if (stdin === process.stdin) {
    // Reading a directory fd yields nothing on some platforms instead of failing: check first.
    let isDir = false;
    try {
      isDir = fstatSync(0).isDirectory();
    } catch (err) {
      throw new UsageError(`cannot read stdin: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (isDir) throw new UsageError("cannot read stdin: it is a directory");
  }
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`cannot read stdin: ${e.code === "EISDIR" ? "it is a directory" : (e.code ?? e.message)}`);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new UsageError("cannot read stdin: it is not UTF-8 text");
  }
}
