import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readFileSync, symlinkSync, existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { makeTempRepo, type TempRepo } from "./temp_repo.js";
import { toolContext } from "./tool_context.js";
import { readFileTool } from "../../src/agent/tools/read_file.js";
import { writeFileTool } from "../../src/agent/tools/write_file.js";
import { editFileTool } from "../../src/agent/tools/edit_file.js";
import { listDirTool } from "../../src/agent/tools/list_dir.js";
import { globTool } from "../../src/agent/tools/glob.js";
import { grepTool } from "../../src/agent/tools/grep.js";
import { todoTool } from "../../src/agent/tools/todo.js";
import { validateArguments } from "../../src/agent/tools/argument_validation.js";
import { ToolInputError } from "../../src/agent/tools/tool.js";

let repo: TempRepo;
beforeEach(() => {
  repo = makeTempRepo({
    ".gitignore": "build/\n*.log\n",
    "src/a.ts": "export const a = 1;\nexport const b = 2;\n",
    "src/dup.ts": "x = 1;\ny = 2;\nx = 1;\n",
    "src/nested/c.ts": "const needle = 'here';\n",
    "build/out.js": "const needle = 'ignored';\n",
    "debug.log": "needle in a log\n",
    "img.bin": Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02]),
    "README.md": "# demo\n",
  });
});
afterEach(() => repo.cleanup());

describe("read_file", () => {
  it("returns numbered lines and honours offset/limit", async () => {
    const { ctx } = toolContext(repo.root);
    const all = await readFileTool.run({ path: "src/a.ts" }, ctx);
    expect(all).toEqual({ ok: true, content: "1\texport const a = 1;\n2\texport const b = 2;" });
    const second = await readFileTool.run({ path: "src/a.ts", offset: 2, limit: 1 }, ctx);
    expect(second.content).toBe("2\texport const b = 2;");
    const page = await readFileTool.run({ path: "src/dup.ts", limit: 1 }, ctx);
    expect(page.content).toContain("call read_file with offset 2 for more");
  });

  it("refuses a path escaping the repository, including through a symlink", async () => {
    const { ctx } = toolContext(repo.root);
    await expect(readFileTool.run({ path: "../../etc/passwd" }, ctx)).rejects.toThrow(/outside the repository root/);
    await expect(readFileTool.run({ path: "/etc/hostname" }, ctx)).rejects.toThrow(/outside the repository root/);
    symlinkSync("/etc", path.join(repo.root, "etc-link"));
    await expect(readFileTool.run({ path: "etc-link/hostname" }, ctx)).rejects.toThrow(/outside the repository root/);
  });

  it("reports a missing file, a directory and a binary file clearly", async () => {
    const { ctx } = toolContext(repo.root);
    await expect(readFileTool.run({ path: "nope.ts" }, ctx)).rejects.toThrow("file not found: nope.ts");
    await expect(readFileTool.run({ path: "src" }, ctx)).rejects.toThrow(/is a directory; use list_dir/);
    await expect(readFileTool.run({ path: "img.bin" }, ctx)).rejects.toThrow(/img.bin is a binary file/);
  });

  it("truncates output over the budget with a note on how to get the rest", async () => {
    repo.write("big.txt", Array.from({ length: 500 }, (_, i) => `line ${i} ${"x".repeat(50)}`).join("\n"));
    const { ctx } = toolContext(repo.root, { limits: { outputChars: 2000 } });
    const r = await readFileTool.run({ path: "big.txt" }, ctx);
    expect(r.content.length).toBeLessThan(2300);
    expect(r.content).toMatch(/\[output truncated: showing \d+ of \d+ characters .*read_file with a smaller limit or a later offset/);
  });
});

describe("write_file", () => {
  it("creates files with parent directories atomically and returns a diff", async () => {
    const { ctx } = toolContext(repo.root);
    const r = await writeFileTool.run({ path: "docs/new.md", content: "hello\n" }, ctx);
    expect(r.ok).toBe(true);
    expect(readFileSync(path.join(repo.root, "docs/new.md"), "utf8")).toBe("hello\n");
    expect(r.diff).toContain("+hello");
    expect(readdirSync(path.join(repo.root, "docs"))).toEqual(["new.md"]); // no temp file left
  });

  it("previews writes outside the root with the absolute path so permissions can ask", async () => {
    const { ctx } = toolContext(repo.root);
    const p = await writeFileTool.preview({ path: "../outside.txt", content: "x" }, ctx);
    expect(p.writesPaths).toEqual([path.join(path.dirname(repo.root), "outside.txt")]);
    expect(existsSync(path.join(path.dirname(repo.root), "outside.txt"))).toBe(false);
  });
});

describe("edit_file", () => {
  it("replaces a unique string and returns a unified diff", async () => {
    const { ctx } = toolContext(repo.root);
    const r = await editFileTool.run({ path: "src/a.ts", old_string: "const b = 2", new_string: "const b = 3" }, ctx);
    expect(r.ok).toBe(true);
    expect(readFileSync(path.join(repo.root, "src/a.ts"), "utf8")).toBe("export const a = 1;\nexport const b = 3;\n");
    expect(r.diff).toContain("-export const b = 2;");
    expect(r.diff).toContain("+export const b = 3;");
  });

  it("rejects a non-unique match naming the lines, and replace_all changes all", async () => {
    const { ctx } = toolContext(repo.root);
    await expect(editFileTool.run({ path: "src/dup.ts", old_string: "x = 1;", new_string: "x = 9;" }, ctx)).rejects.toThrow(
      /matches 2 places in src\/dup.ts \(lines 1, 3\).*replace_all/,
    );
    expect(readFileSync(path.join(repo.root, "src/dup.ts"), "utf8")).toBe("x = 1;\ny = 2;\nx = 1;\n");
    const r = await editFileTool.run({ path: "src/dup.ts", old_string: "x = 1;", new_string: "x = 9;", replace_all: true }, ctx);
    expect(r.content).toContain("2 replacements");
    expect(readFileSync(path.join(repo.root, "src/dup.ts"), "utf8")).toBe("x = 9;\ny = 2;\nx = 9;\n");
  });

  it("explains a zero-match edit, including a whitespace-only mismatch", async () => {
    const { ctx } = toolContext(repo.root);
    await expect(editFileTool.run({ path: "src/a.ts", old_string: "const z", new_string: "q" }, ctx)).rejects.toThrow(/not found in src\/a.ts/);
    await expect(editFileTool.run({ path: "src/a.ts", old_string: "  export const a = 1;", new_string: "q" }, ctx)).rejects.toThrow(/does match after trimming/);
    await expect(editFileTool.run({ path: "missing.ts", old_string: "a", new_string: "b" }, ctx)).rejects.toThrow("file not found: missing.ts");
    await expect(editFileTool.run({ path: "img.bin", old_string: "P", new_string: "Q" }, ctx)).rejects.toThrow(/binary file/);
  });
});

describe("list_dir / glob / grep respect .gitignore", () => {
  it("list_dir hides ignored entries and says how many", async () => {
    const { ctx } = toolContext(repo.root);
    const r = await listDirTool.run({}, ctx);
    const lines = r.content.split("\n");
    expect(lines.slice(1)).toEqual([".gitignore", "README.md", "img.bin", "src/"]);
    expect(lines[0]).toContain("3 gitignored not shown"); // .git, build/, debug.log
  });

  it("glob matches relative to path and skips ignored files", async () => {
    const { ctx } = toolContext(repo.root);
    expect((await globTool.run({ pattern: "**/*.ts" }, ctx)).content.split("\n")).toEqual(["src/a.ts", "src/dup.ts", "src/nested/c.ts"]);
    expect((await globTool.run({ pattern: "*.ts", path: "src/nested" }, ctx)).content).toBe("src/nested/c.ts");
    expect((await globTool.run({ pattern: "**/*.js" }, ctx)).content).toMatch(/^No files match/);
    expect((await globTool.run({ pattern: "./src/*.ts" }, ctx)).content).toBe("src/a.ts\nsrc/dup.ts");
  });

  it("grep returns file:line hits, skips ignored and binary files, caps results", async () => {
    const { ctx } = toolContext(repo.root);
    expect((await grepTool.run({ pattern: "needle" }, ctx)).content).toBe("src/nested/c.ts:1: const needle = 'here';");
    expect((await grepTool.run({ pattern: "EXPORT", ignore_case: true, glob: "*.ts" }, ctx)).content.split("\n")).toEqual([
      "src/a.ts:1: export const a = 1;",
      "src/a.ts:2: export const b = 2;",
    ]);
    const capped = await grepTool.run({ pattern: "=", max_results: 2 }, ctx);
    expect(capped.content.split("\n").slice(0, 2)).toHaveLength(2);
    expect(capped.content).toMatch(/\[\d+ more matching lines not shown/);
    await expect(grepTool.run({ pattern: "(" }, ctx)).rejects.toThrow(/invalid regular expression/);
  });

  it("a nested .gitignore applies below its directory, and negation re-includes", async () => {
    repo.write("src/.gitignore", "*.gen.ts\n!keep.gen.ts\n");
    repo.write("src/x.gen.ts", "gen");
    repo.write("src/keep.gen.ts", "keep");
    const { ctx } = toolContext(repo.root);
    const files = (await globTool.run({ pattern: "**/*.gen.ts" }, ctx)).content;
    expect(files).toBe("src/keep.gen.ts");
  });
});

describe("every read-only tool refuses paths outside the repository", () => {
  it.each([
    ["list_dir", () => listDirTool.run({ path: ".." }, toolContext(repo.root).ctx)],
    ["glob", () => globTool.run({ pattern: "*", path: "/etc" }, toolContext(repo.root).ctx)],
    ["grep", () => grepTool.run({ pattern: "root", path: "/etc/passwd" }, toolContext(repo.root).ctx)],
    ["read_file", () => readFileTool.run({ path: "src/../../x" }, toolContext(repo.root).ctx)],
  ])("%s", async (_name, call) => {
    await expect(call()).rejects.toThrow(/is outside the repository root/);
  });
});

describe("todo and argument validation", () => {
  it("todo replaces the plan and refuses two in-progress items", async () => {
    const { ctx, todos } = toolContext(repo.root);
    const r = await todoTool.run({ todos: [{ content: "read", status: "completed" }, { content: "fix", status: "in_progress" }] }, ctx);
    expect(r.content).toBe("[x] read\n[~] fix");
    expect(todos).toEqual([[{ content: "read", status: "completed" }, { content: "fix", status: "in_progress" }]]);
    await expect(todoTool.run({ todos: [{ content: "a", status: "in_progress" }, { content: "b", status: "in_progress" }] }, ctx)).rejects.toThrow(/at most one in_progress/);
  });

  it("names the argument at fault", () => {
    expect(() => validateArguments({}, readFileTool.parameters)).toThrow('missing required argument "path"');
    expect(() => validateArguments({ path: 3 }, readFileTool.parameters)).toThrow('argument "path" must be a string, got integer 3');
    expect(() => validateArguments({ path: "a", offset: 0 }, readFileTool.parameters)).toThrow('argument "offset" must be at least 1');
    expect(() => validateArguments({ path: "a", lines: 2 }, readFileTool.parameters)).toThrow(/unknown argument "lines"; expected only: path, offset, limit/);
    expect(() => validateArguments({ todos: [{ content: "a", status: "done" }] }, todoTool.parameters)).toThrow(/argument "todos\[0\].status" must be one of "pending", "in_progress", "completed"/);
    expect(() => validateArguments({ path: "a" }, readFileTool.parameters)).not.toThrow();
    expect(new ToolInputError("x")).toBeInstanceOf(Error);
  });
});
