// Drives a program in a detached tmux pane: send keys, read the screen, wait for text.
import { execFileSync, spawnSync } from "node:child_process";

export class TmuxSession {
  constructor(readonly name: string) {}

  static start(name: string, command: string, opts: { cwd: string; env: Record<string, string>; width?: number; height?: number }): TmuxSession {
    spawnSync("tmux", ["kill-session", "-t", name]);
    const envArgs = Object.entries(opts.env).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    execFileSync("tmux", ["new-session", "-d", "-s", name, "-x", String(opts.width ?? 120), "-y", String(opts.height ?? 40), "-c", opts.cwd, ...envArgs, command]);
    return new TmuxSession(name);
  }

  screen(): string {
    const r = spawnSync("tmux", ["capture-pane", "-p", "-t", this.name], { encoding: "utf8" });
    return r.status === 0 ? r.stdout : "";
  }

  /** The screen plus everything scrolled off it. */
  history(): string {
    const r = spawnSync("tmux", ["capture-pane", "-p", "-S", "-", "-t", this.name], { encoding: "utf8" });
    return r.status === 0 ? r.stdout : "";
  }

  send(...keys: string[]): void {
    execFileSync("tmux", ["send-keys", "-t", this.name, ...keys]);
  }

  /** Sends text literally (no key-name interpretation). */
  type(text: string): void {
    execFileSync("tmux", ["send-keys", "-t", this.name, "-l", text]);
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
    spawnSync("tmux", ["kill-session", "-t", this.name]);
  }
}
