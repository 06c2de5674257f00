// Drives a program in a detached tmux pane: send keys, read the screen, wait for text.
import { execFileSync, spawnSync } from "node:child_process";

// Each session runs on its own tmux server (socket named after it, no user config), so the
// scrollback limit can be raised for it alone: a test reading the whole history must not lose its
// start to tmux's default 2000 lines when replies run long.
const HISTORY_LINES = 100_000;

export class TmuxSession {
  constructor(readonly name: string) {}

  private static tmux(name: string, args: string[]): string[] {
    return ["-L", name, "-f", "/dev/null", ...args];
  }

  static start(name: string, command: string, opts: { cwd: string; env: Record<string, string>; width?: number; height?: number }): TmuxSession {
    spawnSync("tmux", TmuxSession.tmux(name, ["kill-server"]));
    const envArgs = Object.entries(opts.env).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    execFileSync(
      "tmux",
      TmuxSession.tmux(name, [
        "start-server", ";",
        "set-option", "-g", "history-limit", String(HISTORY_LINES), ";",
        "new-session", "-d", "-s", name, "-x", String(opts.width ?? 120), "-y", String(opts.height ?? 40), "-c", opts.cwd, ...envArgs, command,
      ]),
    );
    return new TmuxSession(name);
  }

  private run(args: string[]) {
    return spawnSync("tmux", TmuxSession.tmux(this.name, args), { encoding: "utf8" });
  }

  screen(): string {
    const r = this.run(["capture-pane", "-p", "-t", this.name]);
    return r.status === 0 ? r.stdout : "";
  }

  /** The screen plus everything scrolled off it. */
  history(): string {
    const r = this.run(["capture-pane", "-p", "-S", "-", "-t", this.name]);
    return r.status === 0 ? r.stdout : "";
  }

  send(...keys: string[]): void {
    execFileSync("tmux", TmuxSession.tmux(this.name, ["send-keys", "-t", this.name, ...keys]));
  }

  /** Sends text literally (no key-name interpretation). */
  type(text: string): void {
    execFileSync("tmux", TmuxSession.tmux(this.name, ["send-keys", "-t", this.name, "-l", text]));
  }

  async waitFor(check: (screen: string) => boolean, what: string, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let s = "";
    while (Date.now() < deadline) {
      s = this.screen();
      if (check(s)) return s;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`timed out waiting for ${what}; screen:\n${s}`);
  }

  kill(): void {
    spawnSync("tmux", TmuxSession.tmux(this.name, ["kill-server"]));
  }
}
