// edit_file: exact string replacement. The old string must match exactly once unless replace_all
// is set; zero or several matches come back as errors that tell the model what to do next.
import { type Tool, ToolInputError } from "./tool.js";
import { resolvePath } from "./repo_paths.js";
import { readTextFile } from "./file_text.js";
import { fileDiff } from "./file_diff.js";
import { writeFileAtomic } from "./atomic_write.js";

export interface EditFileArgs {
  path: string;
  old_string: string;
  new_string: string;
  replace_all?: boolean;
}

function lineOf(text: string, index: number): number {
  let n = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < index; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

function matchOffsets(text: string, needle: string): number[] {
  const out: number[] = [];
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + needle.length)) out.push(i);
  return out;
}

async function planEdit(args: EditFileArgs, root: string, cwd: string) {
  const file = resolvePath(root, cwd, args.path);
  if (args.old_string === "") throw new ToolInputError("old_string is empty; to create a file use write_file");
  if (args.old_string === args.new_string) throw new ToolInputError("old_string and new_string are identical; nothing would change");
  const before = await readTextFile(file.abs, file.rel);
  const offsets = matchOffsets(before, args.old_string);
  if (offsets.length === 0) {
    const trimmed = args.old_string.trim();
    const hint = trimmed !== args.old_string && trimmed && before.includes(trimmed)
      ? " It does match after trimming leading/trailing whitespace: copy the exact whitespace from read_file output (without the line-number prefix)."
      : " Read the file again and copy the exact text, including indentation, without the line-number prefix.";
    throw new ToolInputError(`old_string was not found in ${file.rel}.${hint}`);
  }
  if (offsets.length > 1 && !args.replace_all) {
    const lines = offsets.slice(0, 10).map((o) => lineOf(before, o));
    throw new ToolInputError(
      `old_string matches ${offsets.length} places in ${file.rel} (lines ${lines.join(", ")}${offsets.length > 10 ? ", …" : ""}). Include more surrounding lines to make it unique, or set replace_all to true to change every occurrence.`,
    );
  }
  const after = args.replace_all
    ? before.split(args.old_string).join(args.new_string)
    : before.slice(0, offsets[0]!) + args.new_string + before.slice(offsets[0]! + args.old_string.length);
  return { file, before, after, count: args.replace_all ? offsets.length : 1 };
}

export const editFileTool: Tool<EditFileArgs> = {
  name: "edit_file",
  kind: "edit",
  description:
    "Replace an exact string in a file. old_string must appear exactly once (include enough surrounding lines to make it unique) unless replace_all is true. Returns a unified diff of the change.",
  parameters: {
    type: "object",
    properties: {
      path: { type: "string", description: "File path, relative to the working directory" },
      old_string: { type: "string", description: "Exact text to replace, including whitespace" },
      new_string: { type: "string", description: "Replacement text" },
      replace_all: { type: "boolean", description: "Replace every occurrence (default false)" },
    },
    required: ["path", "old_string", "new_string"],
    additionalProperties: false,
  },
  async preview(args, ctx) {
    const plan = await planEdit(args, ctx.root, ctx.cwd);
    return { summary: `edit ${plan.file.rel}`, diff: fileDiff(plan.file.rel, plan.before, plan.after), writesPaths: [plan.file.abs] };
  },
  async run(args, ctx) {
    const plan = await planEdit(args, ctx.root, ctx.cwd);
    await writeFileAtomic(plan.file.abs, plan.after);
    const diff = fileDiff(plan.file.rel, plan.before, plan.after);
    return { ok: true, content: `Edited ${plan.file.rel} (${plan.count} replacement${plan.count === 1 ? "" : "s"}).\n${diff}`, diff };
  },
};
