// write_file: creates or overwrites a whole file (atomically). The diff against the previous
// content goes to the permission prompt and back to the model.
import { readFile } from "node:fs/promises";
import { type Tool, ToolInputError } from "./tool.js";
import { resolvePath } from "./repo_paths.js";
import { fileDiff } from "./file_diff.js";
import { writeFileAtomic } from "./atomic_write.js";
import { looksBinary } from "./file_text.js";

export interface WriteFileArgs {
  path: string;
  content: string;
}

async function currentText(abs: string, shown: string): Promise<string | null> {
  try {
    const bytes = await readFile(abs);
    if (looksBinary(bytes)) throw new ToolInputError(`${shown} is a binary file; write_file only replaces text files`);
    return bytes.toString("utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    if ((err as NodeJS.ErrnoException).code === "EISDIR") throw new ToolInputError(`${shown} is a directory`);
    throw err;
  }
}

export const writeFileTool: Tool<WriteFileArgs> = {
  name: "write_file",
  kind: "edit",
  description:
    "Create a file or replace its whole content. Parent directories are created. Prefer edit_file for changing part of an existing file.",
  parameters: {
    type: "object",
    properties: {
      path: { type: "string", description: "File path, relative to the working directory" },
      content: { type: "string", description: "The complete new file content" },
    },
    required: ["path", "content"],
    additionalProperties: false,
  },
  async preview(args, ctx) {
    const file = resolvePath(ctx.root, ctx.cwd, args.path);
    const before = await currentText(file.abs, file.rel);
    return { summary: `${before === null ? "create" : "overwrite"} ${file.rel}`, diff: fileDiff(file.rel, before, args.content), writesPaths: [file.abs] };
  },
  async run(args, ctx) {
    const file = resolvePath(ctx.root, ctx.cwd, args.path);
    const before = await currentText(file.abs, file.rel);
    await writeFileAtomic(file.abs, args.content);
    const lines = args.content.length === 0 ? 0 : args.content.split("\n").length - (args.content.endsWith("\n") ? 1 : 0);
    const diff = fileDiff(file.rel, before, args.content);
    return { ok: true, content: `${before === null ? "Created" : "Overwrote"} ${file.rel} (${lines} lines).`, diff };
  },
};
