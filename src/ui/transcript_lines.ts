// Each transcript item as terminal lines. One function per item kind; the <Static> history and
// the live turn both print through here, so an item looks the same before and after it settles.
import type { AnsiStyle } from "./ansi_style.js";
import { diffCounts, renderDiff } from "./diff_render.js";
import { formatCount, formatSeconds } from "./format_units.js";
import { renderMarkdown } from "./markdown_render.js";
import type { AssistantItem, NoticeItem, ToolItem, TranscriptItem } from "./transcript.js";

export interface LineOptions {
  style: AnsiStyle;
  width: number;
  /** Reasoning shown in full instead of collapsing to one line. */
  showThinking: boolean;
}

export const DIFF_MAX_LINES = 40;
export const RESULT_PREVIEW_LINES = 4;

export function itemLines(item: TranscriptItem, o: LineOptions): string[] {
  switch (item.kind) {
    case "user":
      return ["", ...item.text.split("\n").map((l, i) => o.style.bold((i === 0 ? "› " : "  ") + l))];
    case "assistant":
      return assistantLines(item, o);
    case "tool":
      return toolLines(item, o);
    case "notice":
      return noticeLines(item, o);
    case "reasoning":
      return [o.style.dim(o.style.italic("reasoning:")), ...item.text.trim().split("\n").map((l) => o.style.dim(l))];
  }
}

/** "thought for 12 s · 1.3k tokens" */
export function thoughtSummary(item: AssistantItem): string {
  return `thought for ${formatSeconds(item.reasoningMs)} · ${formatCount(item.reasoningTokens)} tokens`;
}

function assistantLines(item: AssistantItem, o: LineOptions): string[] {
  const st = o.style;
  const out: string[] = [""];
  if (item.reasoning !== "") {
    const thinking = item.content === "" && !item.finished && item.writingTool === undefined;
    if (thinking || o.showThinking) {
      if (thinking) out.push(st.dim(st.italic(`thinking… ${formatSeconds(item.reasoningMs)} · ${formatCount(item.reasoningTokens)} tokens`)));
      else out.push(st.dim(st.italic(thoughtSummary(item))));
      out.push(...item.reasoning.trim().split("\n").map((l) => st.dim(l)));
    } else {
      out.push(st.dim(st.italic(`✻ ${thoughtSummary(item)} (ctrl+o to expand)`)));
    }
  }
  if (item.content !== "") {
    if (item.reasoning !== "") out.push("");
    out.push(...renderMarkdown(item.content, st, o.width - 2).split("\n"));
  }
  if (item.writingTool !== undefined) out.push(st.dim(`writing a ${item.writingTool} call…`));
  return out;
}

const KEY_ARG_NAMES = ["path", "command", "pattern", "file", "query", "url"];

/** The arguments worth showing on the card's title line when the agent gave no summary. */
export function keyArgs(args: Record<string, unknown>): string {
  for (const name of KEY_ARG_NAMES) {
    const v = args[name];
    if (typeof v === "string" && v !== "") return v;
  }
  const first = Object.entries(args).find(([, v]) => typeof v === "string" || typeof v === "number");
  return first !== undefined ? `${first[0]}=${String(first[1])}` : "";
}

function toolLines(item: ToolItem, o: LineOptions): string[] {
  const st = o.style;
  const icon = item.status === "running" ? st.yellow("◌") : item.status === "ok" ? st.green("●") : st.red("●");
  const what = item.summary !== "" ? item.summary : keyArgs(item.args);
  const status =
    item.status === "running" ? st.yellow("running…") : item.status === "ok" ? st.green(`✓ ${formatSeconds(item.durationMs ?? 0)}`) : st.red(`✗ failed ${formatSeconds(item.durationMs ?? 0)}`);
  const title = truncate(`${st.bold(item.name)} ${what}`, o.width - 16);
  const out = ["", `${icon} ${title}  ${status}`];
  if (item.diff !== undefined && item.diff !== "") {
    const { added, removed } = diffCounts(item.diff);
    out.push(st.gray(`  ⎿ ${st.green(`+${added}`)} ${st.red(`-${removed}`)}`));
    out.push(...renderDiff(item.diff, st, DIFF_MAX_LINES).map((l) => `    ${truncate(l, o.width - 4)}`));
  } else {
    const body = item.status === "running" ? item.output : (item.result ?? "");
    const lines = body.replace(/\s+$/, "").split("\n").filter((l, i, all) => l !== "" || i < all.length - 1);
    const preview = item.status === "running" ? lines.slice(-RESULT_PREVIEW_LINES) : lines.slice(0, RESULT_PREVIEW_LINES);
    preview.forEach((l, i) => out.push(st.gray(`${i === 0 ? "  ⎿ " : "    "}${truncate(l, o.width - 6)}`)));
    if (item.status !== "running" && lines.length > RESULT_PREVIEW_LINES) out.push(st.gray(`    … ${lines.length - RESULT_PREVIEW_LINES} more lines`));
  }
  return out;
}

function noticeLines(item: NoticeItem, o: LineOptions): string[] {
  const st = o.style;
  const paint = item.tone === "error" ? st.red : item.tone === "warn" ? st.yellow : st.gray;
  const prefix = item.tone === "error" ? "error: " : "";
  return item.text.split("\n").map((l, i) => paint(i === 0 ? `${prefix}${l}` : l));
}

function truncate(s: string, width: number): string {
  // Visible length ignores escape codes; cutting inside one would leave the terminal styled.
  // eslint-disable-next-line no-control-regex
  const visible = s.replace(/\u001b\[[0-9;]*m/g, "");
  if (visible.length <= width || width < 2) return s;
  // eslint-disable-next-line no-control-regex
  return visible.slice(0, width - 1) + "…";
}

/** Columns a code point takes: 2 for East Asian wide/fullwidth and emoji, 0 for combining marks. */
function codePointWidth(cp: number): number {
  if (cp === 0x200d || (cp >= 0x300 && cp <= 0x36f) || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

/** Visible columns of a line (escape codes ignored). */
export function displayWidth(line: string): number {
  let w = 0;
  // eslint-disable-next-line no-control-regex
  for (const ch of line.replace(/\u001b\[[0-9;]*m/g, "")) w += codePointWidth(ch.codePointAt(0)!);
  return w;
}

/** Terminal rows a line takes at `width` columns (wide characters wrap early, so round up). */
export function rowsOf(line: string, width: number): number {
  const w = displayWidth(line);
  if (w === 0) return 1;
  const cols = Math.max(2, width);
  // A wide character that does not fit in the last column moves to the next row: allow for it.
  return Math.ceil(w / (cols - 1));
}

/** The last lines that fit in `maxRows` terminal rows, with a marker when some were cut. */
export function tailToRows(lines: string[], maxRows: number, width: number, st: AnsiStyle): string[] {
  let rows = 0;
  let i = lines.length;
  while (i > 0 && rows + rowsOf(lines[i - 1]!, width) <= maxRows - 1) {
    rows += rowsOf(lines[i - 1]!, width);
    i--;
  }
  if (i === 0) return lines;
  return [st.gray(`… ${i} lines above (shown in full when the step ends)`), ...lines.slice(i)];
}
