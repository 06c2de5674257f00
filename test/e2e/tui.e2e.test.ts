// The real `k2` TUI in tmux against the tiny random-weights checkpoint: the text is gibberish, the
// plumbing (engine → LocalChatModel → agent → Ink) is real.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { K2_MAIN, removeSandboxes, requireBuiltK2, requireTmux, sandbox, TINY_MODEL } from "./k2_binary.js";
import { TmuxSession } from "./tmux_session.js";

let tmux: TmuxSession | undefined;

beforeAll(() => {
  requireBuiltK2();
  requireTmux();
});

afterAll(() => {
  tmux?.kill();
  removeSandboxes();
});

const statusLine = (screen: string) => screen.split("\n").find((l) => l.startsWith("kimi-k2-tiny │")) ?? "";

describe("k2 interactive (tmux)", () => {
  it("streams a reply with a live status line, stops on Esc, exits on /exit", async () => {
    const { home, cwd } = sandbox();
    tmux = TmuxSession.start(`k2e2e${process.pid}`, `node ${K2_MAIN} --model ${TINY_MODEL} --max-tokens 800 --seed 1; echo K2_EXITED rc=$?; sleep 60`, {
      cwd,
      env: { K2_HOME: home, TERM: "xterm-256color" },
      height: 24, // small, so long gibberish answers overflow the screen into scrollback
    });
    // The ready line and the prompt box are separate frames; on a loaded machine a capture can
    // fall between them, so wait for both.
    const ready = await tmux.waitFor((s) => s.includes("kimi-k2-tiny ready") && s.includes("Ask K2 anything"), "the model to load and the prompt to show", 60_000);
    expect(ready).toContain("Ask K2 anything");

    tmux.type("hello k2");
    tmux.send("Enter");
    await tmux.waitFor((s) => s.includes("› hello k2") && s.includes("esc to cancel"), "the turn to start", 10_000);
    // Streamed text appears under the prompt while the turn is still running.
    const streaming = await tmux.waitFor((s) => {
      const after = s.split("› hello k2")[1] ?? "";
      return s.includes("esc to cancel") && after.split("\n").some((l) => l.trim() !== "" && !l.includes("esc to cancel") && !l.includes("thinking…") && !l.startsWith("╭"));
    }, "streamed text", 90_000);
    expect(streaming).toContain("esc to cancel");
    const done = await tmux.waitFor((s) => !s.includes("esc to cancel"), "the turn to finish", 120_000);
    const m = /decode ([\d.]+) tok\/s/.exec(statusLine(done));
    expect(m, statusLine(done)).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    expect(statusLine(done)).toMatch(/prefill [\d.]+ tok\/s/);
    expect(statusLine(done)).toMatch(/ctx [\d.]+k?\/[\d.]+k/);

    // Esc mid-stream: retry when the gibberish happens to end the turn (end of turn token) before
    // the key lands.
    let cancelled = false;
    for (let attempt = 0; attempt < 6 && !cancelled; attempt++) {
      tmux.type(`tell me a long story ${attempt}`);
      tmux.send("Enter");
      // The tiny model decodes ~1000 tok/s: a short reply can start and end between two captures.
      await tmux.waitFor((s) => s.includes(`story ${attempt}`), "the second turn", 10_000);
      await tmux.waitFor((s) => !s.includes("esc to cancel") || /decode|thinking…/.test(s.split(`story ${attempt}`)[1] ?? "") || (s.split(`story ${attempt}`)[1] ?? "").trim().split("\n").length > 6, "tokens", 60_000);
      const before = tmux.screen();
      if (!before.includes("esc to cancel")) continue;
      tmux.send("Escape");
      const after = await tmux.waitFor((s) => !s.includes("esc to cancel"), "the cancel", 5_000);
      cancelled = after.split(`story ${attempt}`)[1]?.includes("cancelled") ?? false;
    }
    expect(cancelled).toBe(true);
    // The turn shows as cancelled at once; "stopping…" stays until the engine has stopped.
    await tmux.waitFor((s) => !s.includes("stopping…"), "the engine to stop", 30_000);
    // Nothing streams after the stop.
    const settled = tmux.screen();
    await new Promise((r) => setTimeout(r, 1500));
    expect(tmux.screen()).toBe(settled);

    // Scrollback intact: Ink never cleared the terminal to repaint (that would drop the banner
    // printed before Ink started and duplicate or lose earlier turns).
    const history = tmux.history();
    expect(history.split("starting kimi-k2-tiny").length - 1).toBe(1);
    expect(history.split("› hello k2").length - 1).toBe(1);

    tmux.type("/exit");
    tmux.send("Enter");
    await tmux.waitFor((s) => s.includes("K2_EXITED rc=0"), "k2 to exit", 10_000);
  });
});
