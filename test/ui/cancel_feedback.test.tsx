// Esc shows the turn as cancelled at once, even while the engine is still finishing its current
// step (a big model stops only at its next token or prefill chunk): what it still emits is not
// shown, and a prompt typed meanwhile waits for the engine and then runs.
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render } from "ink-testing-library";
import type { AgentEvent } from "../../src/agent/events.js";
import { ChatApp } from "../../src/ui/App.js";
import { ansiStyle, stripAnsi } from "../../src/ui/ansi_style.js";
import { InputHistory } from "../../src/ui/input_history.js";
import { FakeDriver, fakeServices, until } from "./fake_driver.js";

afterEach(() => cleanup());

/** First turn: streams, then keeps going for a while after abort (until `engineStopped()`). */
class SlowStopDriver extends FakeDriver {
  private stop: (() => void) | undefined;
  private first = true;
  engineStopped(): void {
    this.stop?.();
  }
  override run(userText: string, signal?: AbortSignal): AsyncIterable<AgentEvent> {
    if (!this.first) return super.run(userText, signal);
    this.first = false;
    this.prompts.push(userText);
    const stopped = new Promise<void>((r) => (this.stop = r));
    return (async function* () {
      yield { type: "turn_start", turn: 1 } as AgentEvent;
      yield { type: "model", step: 0, event: { type: "content", text: "partial answer" } } as AgentEvent;
      await stopped;
      yield { type: "model", step: 0, event: { type: "content", text: " LATE TEXT" } } as AgentEvent;
      yield { type: "turn_end", reason: "cancelled" } as AgentEvent;
    })();
  }
}

describe("Esc feedback", () => {
  it("shows 'cancelled' at once, hides what the engine still emits, and queues the next prompt until it stops", async () => {
    const driver = new SlowStopDriver([[{ type: "turn_start", turn: 2 }, { type: "turn_end", reason: "done" }]]);
    const app = render(<ChatApp driver={driver} services={fakeServices()} history={new InputHistory(null)} style={ansiStyle(false)} cwd="/w" branch={null} showThinking={false} />);
    const frame = () => stripAnsi(app.lastFrame() ?? "");
    const send = async (text: string) => {
      for (const ch of text) {
        app.stdin.write(ch);
        await new Promise((r) => setImmediate(r));
      }
      app.stdin.write("\r");
    };
    await send("go");
    await until(() => frame().includes("partial answer"), frame);
    app.stdin.write("\u001b");
    await until(() => frame().includes("cancelled") && frame().includes("stopping…"), frame);
    await send("next question");
    await until(() => frame().includes("queued"), frame);
    expect(driver.prompts).toEqual(["go"]);
    driver.engineStopped();
    await until(() => driver.prompts.length === 2, frame);
    expect(driver.prompts).toEqual(["go", "next question"]);
    await until(() => !frame().includes("stopping…") && !frame().includes("working…"), frame);
    expect(frame()).not.toContain("LATE TEXT");
    expect(frame().split("cancelled").length - 1).toBe(1);
  });
});
