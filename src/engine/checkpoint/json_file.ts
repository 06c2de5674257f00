// Reads one JSON file of a checkpoint directory; every failure names the file.
import { readFile } from "node:fs/promises";
import { CheckpointError } from "../../errors.js";

/** Parsed JSON object of `path`; `undefined` when the file is absent and `optional` is set. */
export async function readJsonObject(path: string, what: string, optional = false): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      if (optional) return undefined;
      throw new CheckpointError(path, `${what} is missing`);
    }
    throw new CheckpointError(path, `cannot read ${what}: ${(err as Error).message}`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(path, `${what} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new CheckpointError(path, `${what} must hold a JSON object`);
  }
  return value as Record<string, unknown>;
}
