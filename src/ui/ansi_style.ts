// ANSI styling for text the TUI builds as strings (markdown, diffs). Disabled styles return text
// unchanged, so NO_COLOR / TERM=dumb / the mono theme produce plain text from the same code.

export interface AnsiStyle {
  readonly enabled: boolean;
  bold(s: string): string;
  dim(s: string): string;
  italic(s: string): string;
  underline(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  magenta(s: string): string;
  gray(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;

export function ansiStyle(enabled: boolean): AnsiStyle {
  if (!enabled) {
    const id = (s: string): string => s;
    return { enabled, bold: id, dim: id, italic: id, underline: id, red: id, green: id, yellow: id, cyan: id, magenta: id, gray: id };
  }
  return {
    enabled,
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    italic: wrap(3, 23),
    underline: wrap(4, 24),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
    magenta: wrap(35, 39),
    gray: wrap(90, 39),
  };
}

/** Whether output to this stream may carry colour: not under NO_COLOR, TERM=dumb or a pipe. */
export function colorAllowed(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.TERM === "dumb") return false;
  return stream.isTTY === true;
}

// eslint-disable-next-line no-control-regex
const ANSI_PATTERN = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*(\u0007|\u001b\\)/g;

export function stripAnsi(s: string): string {
  return s.replace(ANSI_PATTERN, "");
}
