// Splits a bash command line into the simple commands it runs, so permission rules can judge each
// one: `npm test && rm -rf build` is two commands, `git commit -m "a && b"` is one. Quotes are
// honoured (shell-quote), unquoted newlines separate commands as `;` does, and constructs whose
// effect a prefix cannot describe (command substitution, process substitution, output
// redirection) are flagged so an allow rule never approves them silently.
import { parse, type ParseEntry } from "shell-quote";

export interface SimpleCommand {
  /** Words after leading VAR=value assignments. */
  argv: string[];
}

export interface ParsedShellCommand {
  commands: SimpleCommand[];
  /** `$(...)`, backticks, `<(...)`/`>(...)`: runs code a prefix rule did not see. */
  hasSubstitution: boolean;
  /** `>`/`>>`/`>&`/`&>` to a file other than /dev/null: writes files. */
  hasFileRedirect: boolean;
}

const SEPARATORS = new Set(["&&", "||", ";", ";;", "|", "|&", "&", "(", ")"]);
const REDIRECTS = new Set(["<", ">", ">>", ">&", "<&", "<<", "<<<", "&>", "<("]);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;
const SHELLS = new Set(["bash", "sh", "zsh", "dash"]);

/** Replaces unquoted newlines by `;` and reports substitutions outside single quotes. */
function scan(command: string): { text: string; hasSubstitution: boolean } {
  let out = "";
  let quote: "'" | '"' | null = null;
  let hasSubstitution = false;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (c === "\\" && quote !== "'") {
      out += c + (command[i + 1] ?? "");
      i++;
      continue;
    }
    if (quote) {
      if (c === quote) quote = null;
      else if (quote === '"' && (c === "`" || (c === "$" && command[i + 1] === "("))) hasSubstitution = true;
      out += c;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === "`" || (c === "$" && command[i + 1] === "(")) hasSubstitution = true;
    else if ((c === "<" || c === ">") && command[i + 1] === "(") hasSubstitution = true;
    out += c === "\n" ? " ; " : c;
  }
  return { text: out, hasSubstitution };
}

export function parseShellCommand(command: string): ParsedShellCommand {
  const { text, hasSubstitution } = scan(command);
  // Variables stay literal ($HOME is not expanded): rules match what was written.
  const entries: ParseEntry[] = parse(text, (key) => `$${key}`) as ParseEntry[];
  const result: ParsedShellCommand = { commands: [], hasSubstitution, hasFileRedirect: false };
  let words: string[] = [];
  const flush = () => {
    let i = 0;
    while (i < words.length && ASSIGNMENT.test(words[i]!)) i++;
    const argv = words.slice(i);
    if (argv.length > 0) {
      result.commands.push({ argv });
      // `bash -c "..."` runs a command line of its own: judge that too.
      if (SHELLS.has(argv[0]!) && argv[1] === "-c" && argv[2] !== undefined) {
        const inner = parseShellCommand(argv[2]);
        result.commands.push(...inner.commands);
        result.hasSubstitution ||= inner.hasSubstitution;
        result.hasFileRedirect ||= inner.hasFileRedirect;
      }
    }
    words = [];
  };
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (typeof e === "string") {
      words.push(e);
    } else if ("op" in e) {
      if (e.op === "glob") words.push(e.pattern);
      else if (SEPARATORS.has(e.op)) flush();
      else if (REDIRECTS.has(e.op)) {
        const target = entries[i + 1];
        const isOutput = e.op === ">" || e.op === ">>" || e.op === ">&" || e.op === "&>";
        const targetText = typeof target === "string" ? target : "";
        // `2>&1` and `> /dev/null` write no file.
        if (isOutput && targetText !== "/dev/null" && !/^\d+$/.test(targetText)) result.hasFileRedirect = true;
        if (typeof target === "string") i++;
      } else flush();
    }
    // comments are dropped
  }
  flush();
  return result;
}
