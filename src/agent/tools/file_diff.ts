// Unified diffs of file changes, shown in permission prompts and returned to the model.
import { createTwoFilesPatch } from "diff";

export function fileDiff(rel: string, before: string | null, after: string): string {
  const from = before === null ? "/dev/null" : `a/${rel}`;
  return createTwoFilesPatch(from, `b/${rel}`, before ?? "", after, undefined, undefined, { context: 3 })
    .split("\n")
    .filter((line) => !line.startsWith("===="))
    .join("\n");
}
