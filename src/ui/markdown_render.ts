// Markdown answers as terminal text: headings, emphasis, inline code, lists, quotes, tables (as
// text) and fenced code blocks highlighted by cli-highlight. Works on partial text too (the live
// turn re-renders as tokens arrive), so it never throws on unfinished syntax.
import { marked, type Token, type Tokens } from "marked";
import { highlight, supportsLanguage } from "cli-highlight";
import type { AnsiStyle } from "./ansi_style.js";

export function renderMarkdown(text: string, style: AnsiStyle, width: number): string {
  const tokens = marked.lexer(text, { gfm: true });
  return blocks(tokens, style, Math.max(20, width)).join("\n").replace(/\n{3,}/g, "\n\n").trimEnd();
}

function blocks(tokens: Token[], st: AnsiStyle, width: number): string[] {
  const out: string[] = [];
  for (const t of tokens) {
    switch (t.type) {
      case "heading":
        out.push(st.bold(st.cyan(inline((t as Tokens.Heading).tokens, st))), "");
        break;
      case "paragraph":
        out.push(inline((t as Tokens.Paragraph).tokens, st), "");
        break;
      case "text": {
        const tt = t as Tokens.Text;
        out.push(tt.tokens ? inline(tt.tokens, st) : tt.text);
        break;
      }
      case "code": {
        const c = t as Tokens.Code;
        out.push(codeBlock(c.text, c.lang, st), "");
        break;
      }
      case "blockquote": {
        const inner = blocks((t as Tokens.Blockquote).tokens, st, width - 2);
        out.push(...inner.filter((l, i) => l !== "" || i < inner.length - 1).map((l) => st.gray("│ ") + st.italic(l)), "");
        break;
      }
      case "list": {
        const list = t as Tokens.List;
        const start = typeof list.start === "number" ? list.start : 1;
        list.items.forEach((item, i) => {
          const bullet = list.ordered ? `${start + i}.` : "•";
          const box = item.task ? (item.checked ? "[x] " : "[ ] ") : "";
          const lines = blocks(item.tokens, st, width - 3).filter((l) => l !== "");
          lines.forEach((l, j) => out.push(j === 0 ? `${st.gray(bullet)} ${box}${l}` : `   ${l}`));
        });
        out.push("");
        break;
      }
      case "table": {
        const tb = t as Tokens.Table;
        const rows = [tb.header.map((c) => inline(c.tokens, st)), ...tb.rows.map((r) => r.map((c) => inline(c.tokens, st)))];
        rows.forEach((r, i) => out.push(i === 0 ? st.bold(r.join(" │ ")) : r.join(" │ ")));
        out.push("");
        break;
      }
      case "hr":
        out.push(st.gray("─".repeat(Math.min(width, 40))), "");
        break;
      case "space":
        break;
      case "html":
        out.push((t as Tokens.HTML).text);
        break;
      default:
        out.push("raw" in t && typeof t.raw === "string" ? t.raw : "");
    }
  }
  return out;
}

function inline(tokens: Token[] | undefined, st: AnsiStyle): string {
  if (tokens === undefined) return "";
  return tokens
    .map((t) => {
      switch (t.type) {
        case "strong":
          return st.bold(inline((t as Tokens.Strong).tokens, st));
        case "em":
          return st.italic(inline((t as Tokens.Em).tokens, st));
        case "codespan":
          return st.yellow((t as Tokens.Codespan).text);
        case "del":
          return st.dim(inline((t as Tokens.Del).tokens, st));
        case "link": {
          const l = t as Tokens.Link;
          const label = inline(l.tokens, st);
          return label === l.href ? st.underline(l.href) : `${label} (${st.underline(l.href)})`;
        }
        case "br":
          return "\n";
        case "text": {
          const tt = t as Tokens.Text;
          return tt.tokens ? inline(tt.tokens, st) : unescapeEntities(tt.text);
        }
        case "escape":
          return (t as Tokens.Escape).text;
        default:
          return "raw" in t && typeof t.raw === "string" ? t.raw : "";
      }
    })
    .join("");
}

function unescapeEntities(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function codeBlock(code: string, lang: string | undefined, st: AnsiStyle): string {
  const language = (lang ?? "").trim().split(/\s+/)[0] ?? "";
  let body = code;
  if (st.enabled && language !== "" && supportsLanguage(language)) {
    try {
      body = highlight(code, { language, ignoreIllegals: true });
    } catch {
      body = code; // highlight.js can reject half-streamed input; plain text is the honest fallback
    }
  }
  const label = language !== "" ? st.gray(`  ${language}`) : "";
  return [label, ...body.split("\n").map((l) => `${st.gray("▏")} ${l}`)].filter((l) => l !== "").join("\n");
}
