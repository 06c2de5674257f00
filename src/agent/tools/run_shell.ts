// run_shell: a bash command in the repository. Output streams to the UI as it arrives and is
// capped (head and tail kept) for the model. The command runs in its own process group so a
// timeout or cancel kills the whole tree (SIGTERM, then SIGKILL), not just bash.
import { spawn } from "node:child_process";
import { type Tool, ToolInputError } from "./tool.js";
import { headAndTail } from "./output_budget.js";

export interface RunShellArgs {
  command: string;
  timeout_seconds?: number;
}

const KILL_GRACE_MS = 1500;
/** After bash exits, how long its pipes may stay open (a backgrounded child) before we reap it. */
const DRAIN_AFTER_EXIT_MS = 500;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err; // ESRCH: already gone
  }
}

/** Bounded capture: the first and last `cap` characters, however much the command prints. */
class CappedBuffer {
  private head = "";
  private tail = "";
  total = 0;
  constructor(private readonly cap: number) {}
  push(s: string): void {
    this.total += s.length;
    if (this.head.length < this.cap) {
      const room = this.cap - this.head.length;
      this.head += s.slice(0, room);
      s = s.slice(room);
    }
    if (s) this.tail = (this.tail + s).slice(-this.cap);
  }
  text(): string {
    if (!this.tail) return this.head;
    const omitted = this.total - this.head.length - this.tail.length;
    return omitted > 0 ? `${this.head}\n[... ${omitted} characters omitted ...]\n${this.tail}` : this.head + this.tail;
  }
}

export const runShellTool: Tool<RunShellArgs> = {
  name: "run_shell",
  kind: "shell",
  description:
    "Run a bash command in the working directory of the repository and return its exit code and output (stdout and stderr interleaved). Long output keeps its beginning and end. Default timeout 120 s (max 600 s); on timeout the whole process tree is killed. Do not start servers or interactive programs.",
  parameters: {
    type: "object",
    properties: {
      command: { type: "string", description: "The bash command line" },
      timeout_seconds: { type: "number", minimum: 1, description: "Timeout in seconds (default 120, max 600)" },
    },
    required: ["command"],
    additionalProperties: false,
  },
  async preview(args) {
    return { summary: args.command, command: args.command };
  },
  async run(args, ctx) {
    if (args.command.trim() === "") throw new ToolInputError("command is empty");
    const maxMs = ctx.limits.shellMaxTimeoutMs;
    const timeoutMs = Math.min(args.timeout_seconds !== undefined ? args.timeout_seconds * 1000 : ctx.limits.shellTimeoutMs, maxMs);
    const capture = new CappedBuffer(Math.floor(ctx.limits.outputChars / 2));
    const started = Date.now();
    const child = spawn("/bin/bash", ["-c", args.command], {
      cwd: ctx.cwd,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PAGER: "cat", GIT_PAGER: "cat", TERM: "dumb", CI: process.env.CI ?? "1" },
    });
    const pid = child.pid;
    let killedFor: "timeout" | "cancel" | null = null;
    let sigkillTimer: NodeJS.Timeout | undefined;
    const stop = (why: "timeout" | "cancel") => {
      if (killedFor || pid === undefined) return;
      killedFor = why;
      killGroup(pid, "SIGTERM");
      sigkillTimer = setTimeout(() => killGroup(pid, "SIGKILL"), KILL_GRACE_MS);
    };
    const timer = setTimeout(() => stop("timeout"), timeoutMs);
    const onAbort = () => stop("cancel");
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener("abort", onAbort, { once: true });

    const onData = (buf: Buffer) => {
      const s = buf.toString("utf8");
      capture.push(s);
      ctx.emitOutput(s);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);

    const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: Error }>((resolve) => {
      let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
      child.once("error", (err) => resolve({ code: null, signal: null, spawnError: err }));
      child.once("close", (code, signal) => resolve(exit ?? { code, signal }));
      child.once("exit", (code, signal) => {
        exit = { code, signal };
        // bash is gone but something it backgrounded still holds the pipes: reap the group.
        setTimeout(() => {
          if (pid !== undefined) killGroup(pid, "SIGKILL");
          child.stdout!.destroy();
          child.stderr!.destroy();
          resolve(exit!);
        }, DRAIN_AFTER_EXIT_MS).unref();
      });
    });
    clearTimeout(timer);
    ctx.signal.removeEventListener("abort", onAbort);
    // Whatever happened, leave no member of the group behind.
    if (pid !== undefined) killGroup(pid, "SIGKILL");
    if (sigkillTimer) clearTimeout(sigkillTimer);

    if (result.spawnError) return { ok: false, content: `Error: could not start bash: ${result.spawnError.message}` };
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    const output = capture.text() || "(no output)";
    if (killedFor === "timeout") {
      return { ok: false, content: `Command timed out after ${timeoutMs / 1000} s and was killed (with its child processes). Output so far:\n${output}` };
    }
    if (killedFor === "cancel") return { ok: false, content: `Command cancelled by the user after ${secs} s. Output so far:\n${output}` };
    const status = result.code !== null ? `exit code ${result.code}` : `killed by ${result.signal}`;
    return { ok: result.code === 0, content: `${status} (${secs} s)\n${headAndTail(output, ctx.limits.outputChars)}` };
  },
};
