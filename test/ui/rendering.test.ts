import { describe, expect, it } from "vitest";
import { ansiStyle, colorAllowed, sanitizeTerminalText, stripAnsi } from "../../src/ui/ansi_style.js";
import { renderDiff } from "../../src/ui/diff_render.js";
import * as edit from "../../src/ui/input_buffer.js";
import { renderMarkdown } from "../../src/ui/markdown_render.js";
import { applyAgentEvents, emptyTranscript } from "../../src/ui/transcript.js";
import { displayWidth, rowsOf, tailToRows } from "../../src/ui/transcript_lines.js";

describe("markdown", () => {
  it("renders headings, emphasis, lists and code blocks as terminal text", () => {
    const md = "# Title\n\nSome **bold** and `code`.\n\n- one\n- two\n\n```ts\nconst x: number = 1;\n```\n";
    const plain = renderMarkdown(md, ansiStyle(false), 80);
    expect(plain).toContain("Title");
    expect(plain).toContain("Some bold and code.");
    expect(plain).toContain("• one");
    expect(plain).toContain("▏ const x: number = 1;");
    expect(plain).not.toMatch(/\u001b\[/);
    const coloured = renderMarkdown(md, ansiStyle(true), 80);
    expect(coloured).toContain("\u001b[1m"); // bold heading
    expect(stripAnsi(coloured)).toContain("const x: number = 1;");
  });

  it("copes with half-streamed markdown", () => {
    expect(() => renderMarkdown("```py\ndef f(", ansiStyle(true), 80)).not.toThrow();
    expect(stripAnsi(renderMarkdown("**unclosed", ansiStyle(true), 80))).toContain("unclosed");
  });
});

describe("colour policy", () => {
  it("no ANSI under NO_COLOR, TERM=dumb or when not a TTY", () => {
    expect(colorAllowed({ isTTY: true }, {})).toBe(true);
    expect(colorAllowed({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(colorAllowed({ isTTY: true }, { TERM: "dumb" })).toBe(false);
    expect(colorAllowed({ isTTY: false }, {})).toBe(false);
  });
});

describe("terminal safety", () => {
  it("model text cannot emit escape sequences or control bytes", () => {
    expect(sanitizeTerminalText("a\u001b[2Jb\u0007c\r\nd\te\u009bf")).toBe("a\ufffd[2Jb\ufffdc\nd\te\ufffdf");
  });
});

describe("diff", () => {
  it("cuts long diffs with a count of what is hidden", () => {
    const diff = ["@@ -1,50 +1,50 @@", ...Array.from({ length: 50 }, (_, i) => `+line ${i}`)].join("\n");
    const lines = renderDiff(diff, ansiStyle(false), 10);
    expect(lines).toHaveLength(11);
    expect(lines[10]).toBe("… 41 more lines");
  });
});

describe("input buffer", () => {
  it("edits at the cursor, across lines and surrogate pairs", () => {
    let b = edit.fromText("hello");
    b = edit.left(edit.left(b));
    b = edit.insert(b, "XY");
    expect(b.text).toBe("helXYlo");
    b = edit.backspace(b);
    expect(b).toEqual({ text: "helXlo", cursor: 4 });
    b = edit.insert(edit.fromText("a😀"), "");
    expect(edit.backspace(b).text).toBe("a");
    let m = edit.fromText("first\nsecond");
    expect(edit.onFirstLine(m)).toBe(false);
    m = edit.verticalMove(m, -1);
    expect(m.cursor).toBe(5);
    expect(edit.onFirstLine(m)).toBe(true);
    expect(edit.killWordBack(edit.fromText("git commit -m")).text).toBe("git commit ");
  });
});

describe("transcript", () => {
  it("settles items in order and measures reasoning time from event arrival", () => {
    let t = emptyTranscript();
    t = applyAgentEvents(
      t,
      [
        { type: "turn_start", turn: 1 },
        { type: "model", step: 0, event: { type: "reasoning", text: "a" } },
        { type: "model", step: 0, event: { type: "reasoning", text: "b" } },
        { type: "model", step: 0, event: { type: "content", text: "answer" } },
      ],
      [1000, 1000, 4000, 4500],
    );
    expect(t.live).toHaveLength(1);
    const a = t.live[0]!;
    expect(a.kind === "assistant" && a.reasoningMs).toBe(3000);
    t = applyAgentEvents(t, [{ type: "model", step: 0, event: { type: "end", reason: "stop" } }, { type: "turn_end", reason: "done" }], 5000);
    expect(t.live).toHaveLength(0);
    expect(t.done.map((i) => i.kind)).toEqual(["assistant"]);
    expect(t.running).toBe(false);
  });

  it("counts wide characters as two columns when fitting lines to rows", () => {
    expect(displayWidth("模型ab")).toBe(6);
    expect(displayWidth("\u001b[1mab\u001b[22m")).toBe(2);
    expect(rowsOf("模".repeat(50), 80)).toBe(2);
    expect(rowsOf("", 80)).toBe(1);
  });

  it("tailToRows keeps the newest lines within the row budget", () => {
    const lines = Array.from({ length: 30 }, (_, i) => `l${i}`);
    const out = tailToRows(lines, 10, 80, ansiStyle(false));
    expect(out).toHaveLength(10);
    expect(out[0]).toContain("21 lines above");
    expect(out[9]).toBe("l29");
  });
});
